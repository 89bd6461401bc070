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
/// access key, and the stored parts of its uploads in progress (S3 multipart, tus), which hold
/// space as well: without them an account could fill the device with uploads it never completes.
/// A part's bytes leave `uploading` when its upload completes (they become the object's) or is
/// aborted or expires. Bodies cut off or refused before their commit never count.
public struct StorageUsage: Sendable, Equatable {
    public var bytes: UInt64
    public var objects: UInt64
    public var uploading: UInt64

    public init(bytes: UInt64 = 0, objects: UInt64 = 0, uploading: UInt64 = 0) {
        self.bytes = bytes
        self.objects = objects
        self.uploading = uploading
    }

    /// What the byte quota is held against.
    var heldBytes: UInt64 { bytes + uploading }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 30)
        w.varint(bytes)
        w.varint(objects)
        w.varint(uploading)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> StorageUsage {
        try bytes.decode { r in
            StorageUsage(bytes: try r.varint(), objects: try r.varint(), uploading: r.remaining > 0 ? try r.varint() : 0)
        }
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
        let (table, sharded) = (usageTable, nodeShard != nil)
        return try indexStore.read { txn in try Self.usage(of: owner, table: table, sharded: sharded, txn: txn) }
    }

    /// Refuses, before the body is read, an upload whose declared size would take `owner` past
    /// its quota; `bucket`/`key` name the object it would replace (its size is then given back
    /// if `owner` owns it). The commit checks again exactly (`chargeUsage`).
    func checkQuota(declaredBytes: UInt64, owner: String, bucket: String?, key: String?) throws {
        guard let quota = quota(of: owner), quota.bytes != nil || quota.objects != nil else { return }
        var usage = try usage(of: owner)
        var newObjects: UInt64 = 1
        let held = usage.uploading
        // In a versioned bucket the previous version stays (a Suspended PUT replaces only a
        // null one), so its size is given back only where it is replaced.
        if let bucket, let key, let previous = try? headObject(bucket: bucket, key: key), previous.owner == owner,
            previous.versionOrder == 0 || (previous.isNullVersion && (try? self.bucket(bucket))??.versioning == .suspended)
        {
            usage.bytes -= min(usage.bytes, previous.size)
            newObjects = 0
        }
        if let limit = quota.bytes, usage.bytes + held + declaredBytes > limit {
            throw EngineError.quotaExceeded(
                "storing \(declaredBytes) more bytes would take account \(owner) to \(usage.bytes + held + declaredBytes) bytes"
                    + " (\(held) of them in uploads in progress); its quota is \(limit)")
        }
        if let limit = quota.objects, usage.objects + newObjects > limit {
            throw EngineError.quotaExceeded("account \(owner) owns \(usage.objects) objects; its quota is \(limit)")
        }
    }

    /// Moves the usage counters for one object change in the commit's transaction, so they are
    /// exact after any crash: `added` is the new version (nil for a delete), `removed` the one it
    /// replaces. An owner whose bytes or objects grow past its quota has the commit refused.
    func chargeUsage(added: ObjectRecord?, removed: ObjectRecord?, txn: borrowing Transaction) throws {
        var deltas: [String: UsageChange] = [:]
        if let removed {
            deltas[removed.owner, default: UsageChange()] += UsageChange(bytes: -Int64(clamping: removed.size), objects: -1)
        }
        if let added {
            deltas[added.owner, default: UsageChange()] += UsageChange(bytes: Int64(clamping: added.size), objects: 1)
        }
        // An object without an owner account (an anonymous upload a public bucket admitted) counts for nobody.
        for (owner, delta) in deltas where delta != UsageChange() && !owner.isEmpty {
            var check: ((StorageUsage) throws -> Void)?
            if let quota = quota(of: owner), quota.bytes != nil || quota.objects != nil {
                check = { next in
                    if let limit = quota.bytes, delta.bytes > 0, next.heldBytes > limit {
                        throw EngineError.quotaExceeded(
                            "the object would take account \(owner) to \(next.heldBytes) bytes; its quota is \(limit)")
                    }
                    if let limit = quota.objects, delta.objects > 0, next.objects > limit {
                        throw EngineError.quotaExceeded(
                            "the object would take account \(owner) to \(next.objects) objects; its quota is \(limit)")
                    }
                }
            }
            try changeUsage(of: owner, by: delta, txn: txn, check: check)
        }
    }

    static func store(_ usage: StorageUsage, of owner: String, table: Table, txn: borrowing Transaction) throws {
        if usage == StorageUsage() {
            _ = try txn.delete(table, Array(owner.utf8))
        } else {
            try txn.put(table, Array(owner.utf8), usage.encoded())
        }
    }

    /// A part of upload `uploadId` is stored under `partKey` (replacing any earlier one there):
    /// its owner's `uploading` grows by the difference, refused past the byte quota.
    func chargeUploadedPart(uploadId: String, partKey: [UInt8], size: UInt64, txn: borrowing Transaction) throws {
        let (uploads, parts) = (indexStore.table(.uploads), indexStore.table(.parts))
        guard let owner = try txn.get(uploads, Array(uploadId.utf8)).map(UploadRecord.decode)?.metadata.owner,
            !owner.isEmpty
        else { return }
        let replaced =
            try txn.get(parts, partKey).map { v in try v.withUnsafeBytes { try PartRecord.decode($0, withManifest: false) }.size }
            ?? 0
        var check: ((StorageUsage) throws -> Void)?
        if size > replaced, let limit = quota(of: owner)?.bytes {
            check = { usage in
                if usage.heldBytes > limit {
                    throw EngineError.quotaExceeded(
                        "the part would take account \(owner) to \(usage.heldBytes) bytes (\(usage.uploading) in uploads in progress); its quota is \(limit)"
                    )
                }
            }
        }
        try changeUsage(
            of: owner, by: UsageChange(uploading: Int64(clamping: size) - Int64(clamping: replaced)), txn: txn, check: check)
    }

    /// Upload `uploadId` completes or is aborted: its parts' bytes leave its owner's `uploading`
    /// (a completed object's are then counted as the object's).
    func releaseUploadedParts(uploadId: String, txn: borrowing Transaction) throws {
        let (uploads, parts) = (indexStore.table(.uploads), indexStore.table(.parts))
        guard let owner = try txn.get(uploads, Array(uploadId.utf8)).map(UploadRecord.decode)?.metadata.owner,
            !owner.isEmpty
        else { return }
        var total: UInt64 = 0
        let prefix = Tables.partPrefix(upload: uploadId)
        try txn.scan(parts, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            total += try PartRecord.decode(value, withManifest: false).size
            return true
        }
        guard total > 0 else { return }
        // Below zero is clamped where the usage is read (StorageUsage.applying).
        try changeUsage(of: owner, by: UsageChange(uploading: -Int64(clamping: total)), txn: txn)
    }

    var usageTable: Table { indexStore.table(.usage) }

    static let usageCountedKey = Array("usageCounted.v2".utf8)

    /// Counts every object's owner once, for an index made before usage was kept (or rebuilt from
    /// the segments, which do not hold the counters): from then on commits keep them.
    func countUsageIfNeeded() throws {
        let (metaTable, objectTable, table, versionTable) = (meta, objects, usageTable, self.versionTable)
        let (uploadTable, partTable) = (indexStore.table(.uploads), indexStore.table(.parts))
        let counted = try indexStore.read { txn in try txn.contains(metaTable, Self.usageCountedKey) }
        guard !counted else { return }
        let owners = try indexStore.write { txn in
            try txn.clear(table)
            var usage: [String: StorageUsage] = [:]
            try txn.scan(objectTable) { _, value in
                let record = try ObjectRecord.decodeValue(value, withManifest: false)
                usage[record.owner, default: StorageUsage()].bytes += record.size
                usage[record.owner, default: StorageUsage()].objects += 1
                return true
            }
            // Versions other than the current one count too (delete markers hold nothing).
            try txn.scan(versionTable) { key, value in
                let record = try ObjectRecord.decodeValue(value, withManifest: false)
                guard !record.isDeleteMarker, let objectKey = try ObjectRecord.storedKey(inValue: value) else { return true }
                let bucket = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
                let current = try txn.object(objectTable, bucket: bucket, key: objectKey, withManifest: false)
                if current?.effectiveOrder == record.effectiveOrder { return true }
                usage[record.owner, default: StorageUsage()].bytes += record.size
                usage[record.owner, default: StorageUsage()].objects += 1
                return true
            }
            var owners: [[UInt8]: String] = [:]
            try txn.scan(uploadTable) { key, value in
                owners[Array(key)] = try UploadRecord.decode(Array(value)).metadata.owner
                return true
            }
            try txn.scan(partTable) { key, value in
                // parts key: upload id, 0x00, part number
                guard let owner = owners[Array(key.prefix { $0 != 0 })] else { return true }
                usage[owner, default: StorageUsage()].uploading += try PartRecord.decode(value, withManifest: false).size
                return true
            }
            for (owner, counted) in usage where !owner.isEmpty { try txn.put(table, Array(owner.utf8), counted.encoded()) }
            try txn.put(metaTable, Self.usageCountedKey, [1])
            return usage.count
        }
        logger.notice("counted the stored bytes and objects of \(owners) owners for quotas")
    }
}
