import DepotStorage

/// What S3 Object Lock forbids, decided here once for every door (S3, Vault, admin API,
/// policies): a version under an unexpired retention or a legal hold is never removed, and a
/// retention is only ever extended, except a GOVERNANCE one by a request allowed to bypass it.
///
/// Time: a retention is compared with `lockNow`, the later of the wall clock and the highest time
/// the index has recorded (meta `lockClock`, advanced by every commit that makes or removes a
/// version in a locked bucket), so setting the clock back and restarting unlocks nothing.
public enum ObjectLockRequest {
    /// A front door asks for a lock by adding these to the new version's system metadata; the
    /// commit takes them out into the record's lock fields (one path for PUT, copy, multipart).
    public static let modeKey = "x-depot-object-lock-mode"
    /// Milliseconds since the epoch, in decimal.
    public static let retainUntilKey = "x-depot-object-lock-retain-until"
    /// "ON" or "OFF".
    public static let legalHoldKey = "x-depot-object-lock-legal-hold"
    static let keys: Set<String> = [modeKey, retainUntilKey, legalHoldKey]

    public static func pairs(mode: ObjectLockMode?, retainUntil: Int64?, legalHold: Bool?) -> [(String, String)] {
        var pairs: [(String, String)] = []
        if let mode, let retainUntil {
            pairs.append((modeKey, mode.name))
            pairs.append((retainUntilKey, String(retainUntil)))
        }
        if let legalHold { pairs.append((legalHoldKey, legalHold ? "ON" : "OFF")) }
        return pairs
    }

    public static func isRequest(_ name: String) -> Bool { keys.contains(name) }
}

extension ObjectLockFields {
    /// Why this version cannot be removed at `now`, or nil when it can.
    public func deletionRefusal(bypassGovernance: Bool, now: Int64) -> String? {
        if legalHold { return "the object version is under a legal hold" }
        guard retainUntil > now, let mode = ObjectLockMode(rawValue: mode) else { return nil }
        switch mode {
        case .compliance: return "the object version is under COMPLIANCE retention"
        case .governance:
            return bypassGovernance ? nil : "the object version is under GOVERNANCE retention"
        }
    }

    /// The retention after PutObjectRetention asks for `mode` until `retainUntil` (nil, nil:
    /// remove it). Extending is always allowed; shortening, removing or changing the mode of an
    /// unexpired retention only for GOVERNANCE with the bypass.
    public func changingRetention(to mode: ObjectLockMode?, until retainUntil: Int64?, bypassGovernance: Bool, now: Int64)
        throws -> ObjectLockFields
    {
        var changed = self
        changed.mode = mode?.rawValue ?? 0
        changed.retainUntil = retainUntil ?? 0
        guard self.retainUntil > now, let current = ObjectLockMode(rawValue: self.mode) else { return changed }
        let extends = mode == current && (retainUntil ?? 0) >= self.retainUntil
        if extends { return changed }
        if current == .governance && bypassGovernance { return changed }
        throw EngineError.objectLocked(
            current == .compliance
                ? "a COMPLIANCE retention can only be extended"
                : "a GOVERNANCE retention can only be shortened or removed with x-amz-bypass-governance-retention")
    }
}

extension Engine {
    static let lockClockKey = Array("lockClock".utf8)

    /// The time retentions are compared with: never earlier than a time the index has recorded.
    public func lockNow() throws -> Int64 {
        let (table, sharded) = (meta, nodeShard != nil)
        let stored = try indexStore.read { txn in try Self.storedLockClock(txn, table, sharded: sharded) }
        return max(Self.now(), stored)
    }

    /// `lockNow`, recording it in the index when it is later than what is recorded. Cluster mode:
    /// each node records its own time under `lockClock`, 0x00, node name, and the clock is the
    /// latest of them all (and of the `lockClock` row a rebuild writes): one row every node's PUT
    /// into an Object Lock bucket rewrote made the nodes' batches conflict, and reading another
    /// node's row does not.
    func advanceLockClock(txn: borrowing Transaction) throws -> Int64 {
        let shard = nodeShard
        let stored = try Self.storedLockClock(txn, meta, sharded: shard != nil)
        let now = max(Self.now(), stored)
        if now > stored {
            var w = BinaryWriter()
            w.u64(UInt64(now))
            let key = shard.map { Self.lockClockKey + [0] + Array($0.utf8) } ?? Self.lockClockKey
            try txn.put(meta, key, w.bytes)
        }
        return now
    }

    private static func storedLockClock(_ txn: borrowing Transaction, _ meta: Table, sharded: Bool) throws -> Int64 {
        var latest = try txn.get(meta, lockClockKey).map { Int64(clamping: try $0.decode { try $0.u64() }) } ?? 0
        guard sharded else { return latest }
        let prefix = lockClockKey + [0]
        try txn.scan(meta, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            latest = max(latest, Int64(clamping: try Array(value).decode { try $0.u64() }))
            return true
        }
        return latest
    }

    /// Sets a new version's lock fields. The retention is, first found: the one its front door
    /// asked for (S3 headers, a Vault account's `vault.retention`), the one a matching policy's
    /// `lock:` gives (PolicyLock.swift), the bucket's default. A lock asked for in a bucket
    /// without Object Lock is refused; a policy's lock is skipped there.
    func applyObjectLock(_ plan: VersionPlan, bucket: String, key: String, record: inout ObjectRecord) throws {
        let asked = record.systemMetadata.filter { ObjectLockRequest.isRequest($0.0) }
        record.systemMetadata.removeAll { ObjectLockRequest.isRequest($0.0) }
        guard let bucketLock = plan.objectLock else {
            if !asked.isEmpty { throw EngineError.invalidRequest("Bucket is missing Object Lock Configuration") }
            return
        }
        guard !record.isDeleteMarker else { return }
        var lock = ObjectLockFields()
        for (name, value) in asked {
            switch name {
            case ObjectLockRequest.modeKey: lock.mode = ObjectLockMode(name: value)?.rawValue ?? 0
            case ObjectLockRequest.retainUntilKey: lock.retainUntil = Int64(value) ?? 0
            default: lock.legalHold = value == "ON"
            }
        }
        if lock.mode == 0, let policy = policyLock(bucket: bucket, key: key, record: record) {
            lock.mode = policy.mode.rawValue
            lock.retainUntil = policy.retainUntil
        }
        if lock.mode == 0, let until = bucketLock.defaultRetainUntil(now: record.created) {
            lock.mode = bucketLock.defaultMode
            lock.retainUntil = until
        }
        record.lock = lock
    }

    /// Throws `objectLocked` when `version` may not be removed now.
    func requireDeletable(_ version: ObjectRecord, bypassGovernance: Bool, txn: borrowing Transaction) throws {
        guard version.lock != ObjectLockFields() else { return }
        let now = try advanceLockClock(txn: txn)
        if let why = version.lock.deletionRefusal(bypassGovernance: bypassGovernance, now: now) {
            throw EngineError.objectLocked("Access Denied because \(why)")
        }
    }
}
