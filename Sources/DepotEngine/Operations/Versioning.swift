import DepotStorage

/// Bucket versioning (S3 PutBucketVersioning), the one place that decides what a new version
/// or a delete does to the versions of a key.
///
/// Where versions live:
/// - the `objects` table holds the current version whenever it is not a delete marker, exactly as
///   in an unversioned bucket, so GET, HEAD and listings read what they always read;
/// - in a bucket that is (or was) versioned, the `versions` table holds every version of every
///   key, delete markers included, newest first (VersionKeyLayout), for ListObjectVersions and
///   version-specific requests.
/// Chunk references: each version holds one per manifest entry. The current version's are held
/// by its `objects` entry (which tier work updates); its `versions` entry is a copy holding none
/// until a newer version displaces it, when the `objects` record is written there in its place.
struct VersionPlan {
    let state: VersioningState
    /// The `objects` entry before the change.
    let current: ObjectRecord?
    /// The version this change removes for good: the current object in an unversioned bucket,
    /// the `null` version in a Suspended one, none in an Enabled one.
    let replaced: ObjectRecord?
    /// The bucket's Object Lock configuration (ObjectLockRules.swift applies it to the new version).
    var objectLock: BucketObjectLock? = nil
}

extension Engine {
    /// The bucket's versioning state; throws noSuchBucket.
    func versioningState(_ bucket: String, txn: borrowing Transaction) throws -> VersioningState {
        guard let bytes = try txn.get(buckets, Array(bucket.utf8)) else { throw EngineError.noSuchBucket(bucket) }
        return try bytes.decode { try BucketRecord.decode(&$0) }.versioning
    }

    func versionPlan(bucket: String, key: String, current: ObjectRecord?, txn: borrowing Transaction) throws -> VersionPlan {
        // One read of the bucket's record for both its versioning state and its lock (in cluster
        // mode each read is a PostgreSQL round trip inside the commit).
        guard let bytes = try txn.get(buckets, Array(bucket.utf8)) else { throw EngineError.noSuchBucket(bucket) }
        let bucketRecord = try bytes.decode { try BucketRecord.decode(&$0) }
        var plan = try versionPlanIgnoringLock(
            state: bucketRecord.versioning, bucket: bucket, key: key, current: current, txn: txn)
        plan.objectLock = bucketRecord.objectLock
        // A commit in a locked bucket records the time it saw (ObjectLockRules.swift).
        if plan.objectLock != nil { _ = try advanceLockClock(txn: txn) }
        return plan
    }

    private func versionPlanIgnoringLock(
        state: VersioningState, bucket: String, key: String, current: ObjectRecord?, txn: borrowing Transaction
    ) throws -> VersionPlan {
        switch state {
        case .unversioned: return VersionPlan(state: state, current: current, replaced: current)
        case .enabled: return VersionPlan(state: state, current: current, replaced: nil)
        case .suspended:
            if let current, current.isEffectivelyNull { return VersionPlan(state: state, current: current, replaced: current) }
            let null = try txn.version(versionTable, bucket: bucket, key: key, .null)
            return VersionPlan(state: state, current: current, replaced: null)
        }
    }

    /// Gives `record` its version fields and appends its log record.
    func logVersion(
        _ plan: VersionPlan, bucket: String, key: String, record: inout ObjectRecord, context: CommitContext
    ) throws -> (location: RecordLocation, sequence: UInt64) {
        try applyObjectLock(plan, bucket: bucket, key: key, record: &record)
        if plan.state != .unversioned {
            record.versionOrder = try context.upcomingSequence()
            record.isNullVersion = plan.state == .suspended
        }
        let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
        record.commitLocation = location
        record.sequence = sequence
        return (location, sequence)
    }

    /// Makes the logged `record` the key's latest version: drops the references of the version it
    /// replaces, keeps the displaced current one as a version, and indexes the new one (a delete
    /// marker leaves the key without an `objects` entry). The new version's own references are
    /// added by the caller.
    func installVersion(
        _ plan: VersionPlan, bucket: String, key: String, record: ObjectRecord, txn: borrowing Transaction,
        context: CommitContext
    ) throws {
        if let replaced = plan.replaced {
            // The current object's record is the authoritative one when it is the one replaced.
            try dropReferences(replaced.heldChunks, txn: txn, context: context)
            if plan.state != .unversioned {
                // Logged so a rebuild drops it too (an unversioned commit replaces by key).
                _ = try context.log(.versionDelete(bucket: bucket, key: key, order: replaced.effectiveOrder))
                try txn.deleteVersion(versionTable, bucket: bucket, key: key, order: replaced.effectiveOrder)
            }
        }
        guard plan.state != .unversioned else {
            try txn.putObject(objects, bucket: bucket, key: key, record)
            return
        }
        if let current = plan.current, current.effectiveOrder != plan.replaced?.effectiveOrder {
            // Displaced: its versions entry now holds its references.
            try txn.putVersion(versionTable, bucket: bucket, key: key, current)
        }
        try txn.putVersion(versionTable, bucket: bucket, key: key, record)
        if record.isDeleteMarker {
            try txn.deleteObject(objects, bucket: bucket, key: key)
        } else {
            try txn.putObject(objects, bucket: bucket, key: key, record)
        }
    }

    var versionTable: Table { indexStore.table(.versions) }

    // MARK: PutBucketVersioning

    /// Sets Enabled or Suspended. The first time, every object of the bucket becomes its `null`
    /// version in the versions table (one transaction; no log record, since a rebuild derives the
    /// same from the objects' own records).
    public func setVersioning(bucket: String, _ state: VersioningState) async throws {
        precondition(state != .unversioned, "a versioned bucket cannot become unversioned")
        let engine = self
        try await updateBucket(bucket) { record, txn in
            guard record.versioning != state else { return false }
            if record.objectLock != nil, state == .suspended {
                throw EngineError.invalidBucketState(
                    "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.")
            }
            if record.versioning == .unversioned { try engine.versionExistingObjects(bucket: bucket, txn: txn) }
            record.versioning = state
            return true
        }
    }

    private func versionExistingObjects(bucket: String, txn: borrowing Transaction) throws {
        let layout = ObjectKeyLayout(bucket: bucket)
        var keys: [String] = []
        try txn.scan(objects, from: layout.bucketPrefix) { indexKey, value in
            guard ByteOrder.starts(indexKey, with: layout.bucketPrefix) else { return false }
            let part = UnsafeRawBufferPointer(rebasing: indexKey[layout.bucketPrefix.count...])
            keys.append(String(decoding: try layout.objectKey(part: part, value: value), as: UTF8.self))
            return true
        }
        for key in keys {
            guard let record = try txn.object(objects, bucket: bucket, key: key) else { continue }
            let version = record.asVersion
            try txn.putObject(objects, bucket: bucket, key: key, version)
            try txn.putVersion(versionTable, bucket: bucket, key: key, version)
        }
    }

    // MARK: Reads

    /// The version `selector` names (a delete marker included), or nil.
    public func objectVersion(bucket: String, key: String, _ selector: VersionSelector) throws -> ObjectRecord? {
        let (objectTable, table) = (objects, versionTable)
        return try indexStore.read { txn in
            if let current = try txn.object(objectTable, bucket: bucket, key: key), selector.matches(current) {
                return current
            }
            return try txn.version(table, bucket: bucket, key: key, selector)
        }
    }

    /// The latest version of `key` when it is a delete marker (a GET without versionId answers
    /// 404 with `x-amz-delete-marker`); nil otherwise.
    public func latestDeleteMarker(bucket: String, key: String) throws -> ObjectRecord? {
        let table = versionTable
        return try indexStore.read { txn in
            try txn.versions(table, bucket: bucket, key: key, limit: 1).first.flatMap { $0.isDeleteMarker ? $0 : nil }
        }
    }

    // MARK: Deletes

    /// What a DELETE did, for the `x-amz-version-id` and `x-amz-delete-marker` headers.
    public struct DeleteOutcome: Sendable {
        /// The version removed, or the delete marker made; nil in an unversioned bucket.
        public var versionId: String?
        /// A marker was made, or the version removed was one.
        public var deleteMarker: Bool
    }

    /// DELETE in a versioned bucket without a version id: a delete marker becomes the latest
    /// version (replacing the `null` version when Suspended).
    func writeDeleteMarker(
        _ plan: VersionPlan, bucket: String, key: String, precondition: CommitPrecondition?, origin: ChangeOrigin,
        txn: borrowing Transaction, context: CommitContext
    ) throws -> DeleteOutcome {
        let current = plan.current
        try precondition?(current)
        try chargeUsage(added: nil, removed: plan.replaced?.isDeleteMarker == false ? plan.replaced : nil, txn: txn)
        var marker = ObjectRecord(
            size: 0, etag: "", created: Engine.now(), owner: origin.principal.isEmpty ? (current?.owner ?? "") : origin.principal)
        marker.isDeleteMarker = true
        let (_, sequence) = try logVersion(plan, bucket: bucket, key: key, record: &marker, context: context)
        // S3's event for it: ObjectRemoved:DeleteMarkerCreated (LifecycleExpiration:… on expiry).
        let operation = origin.operation == "Expired" ? "ExpiredDeleteMarkerCreated" : "DeleteMarkerCreated"
        try recordEvent(
            EventRecord(
                kind: .removed, operation: operation, bucket: bucket, key: key, size: 0, etag: "",
                userMetadata: current?.userMetadata ?? [], principal: origin.principal, source: origin.source,
                request: origin.request),
            sequence: sequence, txn: txn, context: context)
        if let current { try planDeletes(bucket: bucket, key: key, record: current, txn: txn) }
        try installVersion(plan, bucket: bucket, key: key, record: marker, txn: txn, context: context)
        return DeleteOutcome(versionId: marker.versionId, deleteMarker: true)
    }

    /// DELETE with a version id: removes that version for good. If it was the latest, the next
    /// one becomes current (a marker: the key stays hidden; none: the key is gone).
    /// A version under Object Lock is refused (`objectLocked`); `bypassGovernance` lifts only an
    /// unexpired GOVERNANCE retention (ObjectLockRules.swift).
    public func deleteObjectVersion(
        bucket: String, key: String, _ selector: VersionSelector, origin: ChangeOrigin = .s3("Delete"),
        bypassGovernance: Bool = false
    ) async throws -> DeleteOutcome {
        let engine = self
        do {
            return try await committer.submit { txn, context in
                let state = try engine.versioningState(bucket, txn: txn)
                let current = try txn.object(engine.objects, bucket: bucket, key: key)
                if state == .unversioned {
                    // Only the null version exists: deleting it deletes the object.
                    guard selector == .null, let current else { return DeleteOutcome(versionId: nil, deleteMarker: false) }
                    try engine.removeUnversioned(
                        bucket: bucket, key: key, current: current, origin: origin, txn: txn, context: context)
                    return DeleteOutcome(versionId: "null", deleteMarker: false)
                }
                guard let version = try txn.version(engine.versionTable, bucket: bucket, key: key, selector) else {
                    // S3 answers a delete of a version that is not there with 204.
                    return DeleteOutcome(versionId: nil, deleteMarker: false)
                }
                // The two newest: whether this one is the latest, and which would follow it.
                let newest = try txn.versions(engine.versionTable, bucket: bucket, key: key, limit: 2)
                let isCurrent = current.map { $0.effectiveOrder == version.effectiveOrder } ?? false
                let holder = isCurrent ? current! : version
                // The current version's `objects` record is the authoritative one for its lock too.
                try engine.requireDeletable(holder, bypassGovernance: bypassGovernance, txn: txn)
                if !version.isDeleteMarker { try engine.chargeUsage(added: nil, removed: holder, txn: txn) }
                let (_, sequence) = try context.log(
                    .versionDelete(bucket: bucket, key: key, order: version.effectiveOrder))
                if !version.isDeleteMarker {
                    try engine.recordEvent(
                        EventRecord(
                            kind: .removed, operation: origin.operation, bucket: bucket, key: key, size: holder.size,
                            etag: holder.etag, userMetadata: holder.userMetadata, principal: origin.principal,
                            source: origin.source, request: origin.request),
                        sequence: sequence, txn: txn, context: context)
                }
                try engine.dropReferences(holder.heldChunks, txn: txn, context: context)
                try txn.deleteVersion(engine.versionTable, bucket: bucket, key: key, order: version.effectiveOrder)
                // Its own tier copies go too where the policy says so (Replication.swift).
                try engine.planVersionCopyDeletes(bucket: bucket, key: key, record: holder, txn: txn)
                let promotes =
                    newest.first?.effectiveOrder == version.effectiveOrder && newest.count > 1 && !newest[1].isDeleteMarker
                if isCurrent {
                    // A promoted version's copy replaces the tiers' plain key instead (a delete
                    // queued too could run after it).
                    if !promotes || newest[1].localState != .present {
                        try engine.planDeletes(bucket: bucket, key: key, record: holder, byVersion: true, txn: txn)
                    }
                    try txn.deleteObject(engine.objects, bucket: bucket, key: key)
                }
                if promotes {
                    // The next version becomes current; its references pass to the objects entry,
                    // and the tiers' plain keys get its bytes again.
                    var promoted = newest[1]
                    try engine.replanPromotedVersion(bucket: bucket, key: key, record: &promoted, txn: txn)
                    try txn.putObject(engine.objects, bucket: bucket, key: key, promoted)
                }
                return DeleteOutcome(versionId: version.versionId, deleteMarker: version.isDeleteMarker)
            }
        } catch { throw EngineError.wrap(error) }
    }
}
