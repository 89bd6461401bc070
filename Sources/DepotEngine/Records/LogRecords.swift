import DepotStorage

/// The payloads of the log records in the segments, one per kind of index change. Replaying
/// them in sequence order gives back the buckets and objects; chunk reference counts follow from
/// the manifests.
enum LogPayload {
    case objectCommit(bucket: String, key: String, record: ObjectRecord)
    case objectDelete(bucket: String, key: String)
    case bucketCreate(name: String, record: BucketRecord)
    case bucketDelete(name: String)
    /// One version of a versioned bucket's key was removed (DELETE with a versionId, or a null
    /// version replaced in a Suspended bucket); `order` is its `versionOrder`.
    case versionDelete(bucket: String, key: String, order: UInt64)
    /// A master key's data key, wrapped by it (EncryptionDomains.swift).
    case encryptionDomain(keyId: String, wrappedKey: [UInt8])
    /// One item of a table in `Tables.logged` set to `value`, or removed (nil): the newest
    /// record of a table and key wins, as for buckets. Stored accounts are logged sealed.
    case keyedItem(table: String, key: String, value: [UInt8]?)

    var kind: RecordKind {
        switch self {
        case .objectCommit: return .objectCommit
        case .objectDelete: return .objectDelete
        case .bucketCreate: return .bucketCreate
        case .bucketDelete: return .bucketDelete
        case .versionDelete: return .versionDelete
        case .encryptionDomain: return .encryptionDomain
        case .keyedItem: return .keyedItem
        }
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 128)
        switch self {
        case .objectCommit(let bucket, let key, let record):
            w.string(bucket)
            w.string(key)
            record.encodeBody(&w)
        case .objectDelete(let bucket, let key):
            w.string(bucket)
            w.string(key)
        case .bucketCreate(let name, let record):
            w.string(name)
            w.raw(record.encoded())
        case .bucketDelete(let name):
            w.string(name)
        case .versionDelete(let bucket, let key, let order):
            w.string(bucket)
            w.string(key)
            w.varint(order)
        case .encryptionDomain(let keyId, let wrappedKey):
            w.string(keyId)
            w.blob(wrappedKey)
        case .keyedItem(let table, let key, let value):
            w.string(table)
            w.string(key)
            w.u8(value == nil ? 0 : 1)
            if let value { w.blob(value) }
        }
        return w.bytes
    }

    static func decode(kind: RecordKind, payload: [UInt8]) throws -> LogPayload? {
        try payload.decode { r in
            switch kind {
            case .chunk: return nil
            case .objectCommit:
                return .objectCommit(bucket: try r.string(), key: try r.string(), record: try ObjectRecord.decodeBody(&r))
            case .objectDelete: return .objectDelete(bucket: try r.string(), key: try r.string())
            case .bucketCreate: return .bucketCreate(name: try r.string(), record: try BucketRecord.decode(&r))
            case .bucketDelete: return .bucketDelete(name: try r.string())
            case .versionDelete: return .versionDelete(bucket: try r.string(), key: try r.string(), order: try r.varint())
            case .encryptionDomain: return .encryptionDomain(keyId: try r.string(), wrappedKey: try r.blob())
            case .keyedItem:
                let (table, key) = (try r.string(), try r.string())
                switch try r.u8() {
                case 0: return .keyedItem(table: table, key: key, value: nil)
                case 1: return .keyedItem(table: table, key: key, value: try r.blob())
                case let flag: throw EngineError.corrupt("keyed item record of \(table)/\(key): bad presence flag \(flag)")
                }
            }
        }
    }
}

/// Key layouts of the LMDB environment's tables, and which tables are logged; the tables
/// themselves are `IndexTable` (README "LMDB tables").
enum Tables {
    /// Every table's LMDB name (the list itself is `IndexTable`).
    static let all = IndexTable.allCases.map(\.rawValue)

    /// Tables whose items are kept in the segment log too (`.keyedItem` records), because they
    /// hold what an admin made and nothing else can give back: stored accounts (sealed) and
    /// the `settings` items written by `storeSetting` (tiers, policies, replication jobs; not the
    /// event sinks' delivery cursors). The other tables are rebuilt from the object records or
    /// are working state; DESIGN "LMDB tables" in the README says which is which.
    static let logged = Set(IndexTable.allCases.filter(\.isKeyedItemLogged).map(\.rawValue))

    /// Whether an item is logged: every item of a logged table except the event sinks'
    /// delivery cursors (`settings` keys `cursor/<sink>`), which move with every delivery and
    /// which a rebuilt index, having no outbox, does not need.
    static func logs(table: String, key: String) -> Bool {
        logged.contains(table) && !(table == IndexTable.settings.rawValue && key.hasPrefix("cursor/"))
    }

    // objects keys: ObjectKeyLayout (bucket, 0x00, key; long keys hashed).

    static func segmentKey(_ id: UInt32) -> [UInt8] { withUnsafeBytes(of: id.bigEndian) { Array($0) } }

    static let sequenceKey = Array("sequence".utf8)
    static let formatKey = Array("format".utf8)
}
