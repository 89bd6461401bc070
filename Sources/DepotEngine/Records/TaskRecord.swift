import DepotStorage

/// Tier work waiting in the `tasks` table, keyed by due time so workers take them in order.
/// A task names the object version it was planned for by its creation time (metadata changes
/// such as tagging keep it; a new PUT changes it): if the object has been replaced or deleted by
/// the time the task runs, the task is obsolete and is dropped.
public struct TierTask: Sendable, Equatable {
    public enum Kind: UInt8, Sendable {
        case replicate = 1
        /// Remove the tier's copy of a deleted object (when the policy propagates deletes).
        case delete = 2
    }

    public var kind: Kind
    public var bucket: String
    public var key: String
    public var objectCreated: Int64
    public var tier: String
    public var attempts: UInt32
    /// Asked for on demand (Vault forward/media, `depot replicate`) rather than by a continuous
    /// policy: Kerberos consumers see `request: "ondemand"` in its events.
    public var onDemand = false
    /// The copy is for a policy with `replicate.versions: all`: the version also goes to its own
    /// tier key (`VersionCopyKey`), and the task outlives the version being current.
    public var everyVersion = false
    /// Where the task sits in the table (due time and id); set when read.
    public var handle: [UInt8] = []
    /// When the work was first queued (ms since the epoch). Retries keep it, so the age of a
    /// tier's oldest pending work keeps growing while the tier fails, where the due time of a
    /// retry moves on with each attempt.
    public var queued: Int64

    public init(
        kind: Kind, bucket: String, key: String, objectCreated: Int64, tier: String, attempts: UInt32 = 0,
        onDemand: Bool = false
    ) {
        self.onDemand = onDemand
        self.kind = kind
        self.bucket = bucket
        self.key = key
        self.objectCreated = objectCreated
        self.tier = tier
        self.attempts = attempts
        self.queued = Engine.now()
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64)
        w.u8(1)
        w.u8(kind.rawValue)
        w.string(bucket)
        w.string(key)
        w.signed(objectCreated)
        w.string(tier)
        w.varint(UInt64(attempts))
        w.bool(onDemand)
        w.bool(everyVersion)
        w.signed(queued)
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) throws -> TierTask {
        var r = BinaryReader(bytes)
        guard try r.u8() == 1 else { throw DecodeError("unknown task version") }
        var task = TierTask(
            kind: Kind(rawValue: try r.u8()) ?? .replicate, bucket: try r.string(), key: try r.string(),
            objectCreated: try r.signed(), tier: try r.string(), attempts: UInt32(truncatingIfNeeded: try r.varint()))
        // Tasks queued before the flag existed end here.
        task.onDemand = (try? r.bool()) ?? false
        task.everyVersion = (try? r.bool()) ?? false
        // Tasks queued before the time was kept: their object's creation is the closest guess.
        task.queued = (try? r.signed()) ?? task.objectCreated
        return task
    }

    /// Table key: due time (ms, big-endian) then a unique id, so a cursor walk yields due order.
    static func tableKey(due: Int64, id: UInt64) -> [UInt8] {
        withUnsafeBytes(of: UInt64(max(0, due)).bigEndian) { Array($0) } + withUnsafeBytes(of: id.bigEndian) { Array($0) }
    }

    static func dueTime(of key: UnsafeRawBufferPointer) -> Int64 {
        guard key.count >= 8 else { return 0 }
        return Int64(UInt64(bigEndian: key.loadUnaligned(as: UInt64.self)))
    }
}
