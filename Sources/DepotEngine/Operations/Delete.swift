import DepotStorage

extension Engine {
    /// Removes an object; returns false when there was none (S3 answers 204 either way). In a
    /// versioned bucket it writes a delete marker instead (Versioning.swift).
    @discardableResult
    public func deleteObject(
        bucket: String, key: String, precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("Delete")
    ) async throws -> Bool {
        let outcome = try await deleteLatest(bucket: bucket, key: key, precondition: precondition, origin: origin)
        return outcome.deleteMarker || outcome.versionId != nil
    }

    /// DELETE without a version id, saying what it did: in an unversioned bucket `versionId` is
    /// "null" when an object was removed and nil when there was none; in a versioned bucket it
    /// names the delete marker made.
    public func deleteLatest(
        bucket: String, key: String, precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("Delete")
    ) async throws -> DeleteOutcome {
        do {
            return try await deleteObjectOnce(bucket: bucket, key: key, precondition: precondition, origin: origin)
        } catch EngineError.noSpace where store.releaseBallast() {
            // The device is full to the last byte: the ballast's space takes this delete (and
            // the compaction it makes possible); the server makes the ballast again later.
            logger.warning("the data device is full: released the space ballast so deletes can commit")
            return try await deleteObjectOnce(bucket: bucket, key: key, precondition: precondition, origin: origin)
        }
    }

    private func deleteObjectOnce(
        bucket: String, key: String, precondition: CommitPrecondition?, origin: ChangeOrigin
    ) async throws -> DeleteOutcome {
        let engine = self
        do {
            return try await committer.submit { txn, context in
                let current = try txn.object(engine.objects, bucket: bucket, key: key)
                // Throws noSuchBucket; a versioned bucket gets a delete marker (Versioning.swift).
                let plan = try engine.versionPlan(bucket: bucket, key: key, current: current, txn: txn)
                if plan.state != .unversioned {
                    return try engine.writeDeleteMarker(
                        plan, bucket: bucket, key: key, precondition: precondition, origin: origin, txn: txn,
                        context: context)
                }
                guard let previous = current else {
                    try precondition?(nil)
                    return DeleteOutcome(versionId: nil, deleteMarker: false)
                }
                try precondition?(previous)
                try engine.removeUnversioned(
                    bucket: bucket, key: key, current: previous, origin: origin, txn: txn, context: context)
                return DeleteOutcome(versionId: "null", deleteMarker: false)
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Removes the object of an unversioned bucket.
    func removeUnversioned(
        bucket: String, key: String, current previous: ObjectRecord, origin: ChangeOrigin, txn: borrowing Transaction,
        context: CommitContext
    ) throws {
        // Object Lock holds in every bucket (ObjectLockRules.swift).
        try requireDeletable(previous, bypassGovernance: false, txn: txn)
        try chargeUsage(added: nil, removed: previous, txn: txn)
        let (_, sequence) = try context.log(.objectDelete(bucket: bucket, key: key))
        try recordEvent(
            EventRecord(
                kind: .removed, operation: origin.operation, bucket: bucket, key: key, size: previous.size,
                etag: previous.etag, userMetadata: previous.userMetadata, principal: origin.principal,
                source: origin.source, request: origin.request),
            sequence: sequence, txn: txn, context: context)
        try planDeletes(bucket: bucket, key: key, record: previous, txn: txn)
        try dropReferences(previous.heldChunks, txn: txn, context: context)
        try txn.deleteObject(objects, bucket: bucket, key: key)
    }
}
