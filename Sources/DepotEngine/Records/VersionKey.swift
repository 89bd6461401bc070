import DepotStorage

/// Object Lock state of one version. Carried in every version record (ObjectRecord version 4)
/// and in its log record, so the lock work can enforce it without another format change.
public struct ObjectLockFields: Sendable, Equatable {
    /// 0 none, 1 GOVERNANCE, 2 COMPLIANCE.
    public var mode: UInt8
    /// Milliseconds since the epoch; 0 when no retention is set.
    public var retainUntil: Int64
    public var legalHold: Bool

    public init(mode: UInt8 = 0, retainUntil: Int64 = 0, legalHold: Bool = false) {
        self.mode = mode
        self.retainUntil = retainUntil
        self.legalHold = legalHold
    }
}

/// S3 version ids of non-null versions: the log sequence that created the version, as 16
/// lowercase hex digits. Unique (a sequence is never reused), sortable (a later version has a
/// greater id) and URL-safe. `null` is S3's id of the version made while unversioned or Suspended.
public enum VersionId {
    public static func encode(_ order: UInt64) -> String {
        let digits = String(order, radix: 16)
        return String(repeating: "0", count: max(0, 16 - digits.count)) + digits
    }

    /// The order an id names; nil for anything Depot never made (S3's "Invalid version id").
    public static func decode(_ text: String) -> UInt64? {
        guard text.utf8.count == 16, text.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }),
            let order = UInt64(text, radix: 16), order != 0
        else { return nil }
        return order
    }
}

/// The version a request names with `versionId`.
public enum VersionSelector: Sendable, Equatable {
    case null
    case order(UInt64)

    /// nil when the text is no version id (the door answers 400 InvalidArgument).
    public init?(_ text: String) {
        if text == "null" {
            self = .null
        } else if let order = VersionId.decode(text) {
            self = .order(order)
        } else {
            return nil
        }
    }

    /// The version id as S3 spells it.
    public var text: String {
        switch self {
        case .null: return "null"
        case .order(let order): return VersionId.encode(order)
        }
    }

    /// Whether `record` is the version this selector names.
    func matches(_ record: ObjectRecord) -> Bool {
        switch self {
        case .null: return record.isEffectivelyNull
        case .order(let order): return !record.isEffectivelyNull && record.effectiveOrder == order
        }
    }
}

extension ObjectRecord {
    /// Where the version sorts among its key's versions: its creating sequence, or for a record
    /// from before versioning, the sequence of its (only) log record.
    var effectiveOrder: UInt64 { versionOrder != 0 ? versionOrder : sequence }
    /// A record from before versioning is the `null` version.
    var isEffectivelyNull: Bool { isNullVersion || versionOrder == 0 }

    /// The record with its version fields made explicit, as the versions table stores it.
    var asVersion: ObjectRecord {
        var copy = self
        if versionOrder == 0 {
            copy.versionOrder = sequence
            copy.isNullVersion = true
        }
        return copy
    }
}

/// Keys of the `versions` table: the object's index key laid out as in the objects table, but
/// with 9 bytes less room (ObjectKeyLayout's `suffixLength`), then 0x00 and the bitwise NOT of
/// the version's order, big-endian. So a key's versions are contiguous and newest first, and keys
/// follow one another in the objects table's order (0x00 sorts before every byte a longer key
/// could continue with; keys never contain NUL). Values always carry the full key.
struct VersionKeyLayout {
    static let suffixLength = 9
    let objects: ObjectKeyLayout

    init(bucket: String) { objects = ObjectKeyLayout(bucket: bucket, suffixLength: Self.suffixLength) }

    var bucketPrefix: [UInt8] { objects.bucketPrefix }

    /// Every entry of `key` starts with this.
    func keyPrefix(_ key: String) -> [UInt8] { objects.indexKey(key).bytes + [0] }

    func indexKey(_ key: String, order: UInt64) -> [UInt8] {
        keyPrefix(key) + withUnsafeBytes(of: (~order).bigEndian) { Array($0) }
    }

    /// Sorts after every entry of `key` and before the next key's.
    func keyEnd(_ key: String) -> [UInt8] { keyPrefix(key) + [UInt8](repeating: 0xFF, count: 8) }

    static func order(indexKey: UnsafeRawBufferPointer) -> UInt64 {
        var inverted: UInt64 = 0
        for byte in indexKey.suffix(8) { inverted = inverted << 8 | UInt64(byte) }
        return ~inverted
    }
}

/// Reads and writes of the `versions` table by (bucket, key, version).
extension Transaction {
    /// The versions of `key`, newest first (the first is the latest). Bounded by `limit`.
    func versions(_ table: Table, bucket: String, key: String, limit: Int = .max) throws -> [ObjectRecord] {
        let prefix = VersionKeyLayout(bucket: bucket).keyPrefix(key)
        var out: [ObjectRecord] = []
        try scan(table, from: prefix) { indexKey, value in
            guard ByteOrder.starts(indexKey, with: prefix), indexKey.count == prefix.count + 8 else { return false }
            if try ObjectRecord.storedKey(inValue: value) == key { out.append(try ObjectRecord.decodeValue(value)) }
            return out.count < limit
        }
        return out
    }

    /// The version of `key` whose order is `order` (null or not), or nil.
    func versionEntry(_ table: Table, bucket: String, key: String, order: UInt64) throws -> ObjectRecord? {
        guard let value = try get(table, VersionKeyLayout(bucket: bucket).indexKey(key, order: order)) else { return nil }
        return try value.withUnsafeBytes { bytes in
            try ObjectRecord.storedKey(inValue: bytes) == key ? try ObjectRecord.decodeValue(bytes) : nil
        }
    }

    /// The version `selector` names, or nil.
    func version(_ table: Table, bucket: String, key: String, _ selector: VersionSelector) throws -> ObjectRecord? {
        switch selector {
        case .order(let order):
            return try versionEntry(table, bucket: bucket, key: key, order: order).flatMap { selector.matches($0) ? $0 : nil }
        case .null:
            // At most one null version per key: find it without decoding the others' manifests.
            let prefix = VersionKeyLayout(bucket: bucket).keyPrefix(key)
            var found: ObjectRecord?
            try scan(table, from: prefix) { indexKey, value in
                guard ByteOrder.starts(indexKey, with: prefix), indexKey.count == prefix.count + 8 else { return false }
                guard try ObjectRecord.storedKey(inValue: value) == key,
                    try ObjectRecord.decodeValue(value, withManifest: false).isEffectivelyNull
                else { return true }
                found = try ObjectRecord.decodeValue(value)
                return false
            }
            return found
        }
    }

    func putVersion(_ table: Table, bucket: String, key: String, _ record: ObjectRecord) throws {
        let version = record.asVersion
        try put(
            table, VersionKeyLayout(bucket: bucket).indexKey(key, order: version.versionOrder),
            version.encodedValue(key: key))
    }

    @discardableResult
    func deleteVersion(_ table: Table, bucket: String, key: String, order: UInt64) throws -> Bool {
        try delete(table, VersionKeyLayout(bucket: bucket).indexKey(key, order: order))
    }
}
