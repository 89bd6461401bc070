import DepotStorage
import Synchronization

/// An account's storage quota (`accounts[].quota`): the most logical bytes (object sizes, before
/// deduplication) and, optionally, the most objects it may own. nil fields are unlimited.
public struct StorageQuota: Sendable, Equatable, Codable {
    public var bytes: UInt64?
    public var objects: UInt64?

    public init(bytes: UInt64? = nil, objects: UInt64? = nil) {
        self.bytes = bytes
        self.objects = objects
    }
}

/// What an account owns now: the sizes and the number of the objects whose `owner` is its
/// access key. Uploads in progress (multipart, tus) and refused or cut-off bodies do not count:
/// only committed objects do.
public struct StorageUsage: Sendable, Equatable {
    public var bytes: UInt64
    public var objects: UInt64

    public init(bytes: UInt64 = 0, objects: UInt64 = 0) {
        self.bytes = bytes
        self.objects = objects
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 20)
        w.varint(bytes)
        w.varint(objects)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> StorageUsage {
        try bytes.decode { r in StorageUsage(bytes: try r.varint(), objects: try r.varint()) }
    }
}

/// The quotas in effect, by access key: the server sets them from the accounts at start and on
/// every change of the accounts.
final class QuotaBox: Sendable {
    let quotas = Mutex<[String: StorageQuota]>([:])
}

extension Engine {
    /// Puts the accounts' quotas in effect (access key → quota); accounts not named have none.
    public func setQuotas(_ quotas: [String: StorageQuota]) {
        quotaBox.quotas.withLock { $0 = quotas }
    }

    func quota(of owner: String) -> StorageQuota? { quotaBox.quotas.withLock { $0[owner] } }

    /// What `owner` owns, as last committed.
    public func usage(of owner: String) throws -> StorageUsage {
        let table = usageTable
        return try environment.read { txn in try Self.usage(of: owner, table: table, txn: txn) }
    }

    static func usage(of owner: String, table: Table, txn: borrowing Transaction) throws -> StorageUsage {
        try txn.get(table, Array(owner.utf8)).map(StorageUsage.decode) ?? StorageUsage()
    }

    /// Refuses, before the body is read, an upload whose declared size would take `owner` past
    /// its quota; `bucket`/`key` name the object it would replace (its size is then given back
    /// if `owner` owns it). The commit checks again exactly (`chargeUsage`).
    func checkQuota(declaredBytes: UInt64, owner: String, bucket: String?, key: String?) throws {
        guard let quota = quota(of: owner), quota.bytes != nil || quota.objects != nil else { return }
        var usage = try usage(of: owner)
        var newObjects: UInt64 = 1
        if let bucket, let key, let previous = try? headObject(bucket: bucket, key: key), previous.owner == owner {
            usage.bytes -= min(usage.bytes, previous.size)
            newObjects = 0
        }
        if let limit = quota.bytes, usage.bytes + declaredBytes > limit {
            throw EngineError.quotaExceeded(
                "storing \(declaredBytes) more bytes would take account \(owner) to \(usage.bytes + declaredBytes) bytes; its quota is \(limit)"
            )
        }
        if let limit = quota.objects, usage.objects + newObjects > limit {
            throw EngineError.quotaExceeded("account \(owner) owns \(usage.objects) objects; its quota is \(limit)")
        }
    }

    /// Moves the usage counters for one object change in the commit's transaction, so they are
    /// exact after any crash: `added` is the new version (nil for a delete), `removed` the one it
    /// replaces. An owner whose bytes or objects grow past its quota has the commit refused.
    func chargeUsage(added: ObjectRecord?, removed: ObjectRecord?, txn: borrowing Transaction) throws {
        var deltas: [String: (bytes: Int64, objects: Int64)] = [:]
        if let removed {
            deltas[removed.owner, default: (0, 0)].bytes -= Int64(clamping: removed.size)
            deltas[removed.owner, default: (0, 0)].objects -= 1
        }
        if let added {
            deltas[added.owner, default: (0, 0)].bytes += Int64(clamping: added.size)
            deltas[added.owner, default: (0, 0)].objects += 1
        }
        let table = usageTable
        for (owner, delta) in deltas where delta != (0, 0) {
            let current = try Self.usage(of: owner, table: table, txn: txn)
            let next = StorageUsage(
                bytes: UInt64(max(0, Int64(clamping: current.bytes) + delta.bytes)),
                objects: UInt64(max(0, Int64(clamping: current.objects) + delta.objects)))
            if let quota = quota(of: owner) {
                if let limit = quota.bytes, delta.bytes > 0, next.bytes > limit {
                    throw EngineError.quotaExceeded(
                        "the object would take account \(owner) to \(next.bytes) bytes; its quota is \(limit)")
                }
                if let limit = quota.objects, delta.objects > 0, next.objects > limit {
                    throw EngineError.quotaExceeded(
                        "the object would take account \(owner) to \(next.objects) objects; its quota is \(limit)")
                }
            }
            if next == StorageUsage() {
                _ = try txn.delete(table, Array(owner.utf8))
            } else {
                try txn.put(table, Array(owner.utf8), next.encoded())
            }
        }
    }

    var usageTable: Table { environment.table("usage") }

    static let usageCountedKey = Array("usageCounted".utf8)

    /// Counts every object's owner once, for an index made before usage was kept (or rebuilt from
    /// the segments, which do not hold the counters): from then on commits keep them.
    func countUsageIfNeeded() throws {
        let (metaTable, objectTable, table) = (meta, objects, usageTable)
        let counted = try environment.read { txn in try txn.contains(metaTable, Self.usageCountedKey) }
        guard !counted else { return }
        let owners = try environment.write { txn in
            try txn.clear(table)
            var usage: [String: StorageUsage] = [:]
            try txn.scan(objectTable) { _, value in
                let record = try ObjectRecord.decodeValue(value, withManifest: false)
                usage[record.owner, default: StorageUsage()].bytes += record.size
                usage[record.owner, default: StorageUsage()].objects += 1
                return true
            }
            for (owner, counted) in usage { try txn.put(table, Array(owner.utf8), counted.encoded()) }
            try txn.put(metaTable, Self.usageCountedKey, [1])
            return usage.count
        }
        logger.notice("counted the stored bytes and objects of \(owners) owners for quotas")
    }
}
