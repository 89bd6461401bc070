import DepotStorage

extension Engine {
    /// Removes an object; returns false when there was none (S3 answers 204 either way).
    @discardableResult
    public func deleteObject(
        bucket: String, key: String, precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("Delete")
    ) async throws -> Bool {
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
    ) async throws -> Bool {
        let engine = self
        do {
            return try await committer.submit { txn, context in
                guard try txn.contains(engine.buckets, Array(bucket.utf8)) else { throw EngineError.noSuchBucket(bucket) }
                guard let previous = try txn.object(engine.objects, bucket: bucket, key: key) else {
                    try precondition?(nil)
                    return false
                }
                try precondition?(previous)
                try engine.chargeUsage(added: nil, removed: previous, txn: txn)
                let (_, sequence) = try context.log(.objectDelete(bucket: bucket, key: key))
                try engine.recordEvent(
                    EventRecord(
                        kind: .removed, operation: origin.operation, bucket: bucket, key: key, size: previous.size,
                        etag: previous.etag, userMetadata: previous.userMetadata, principal: origin.principal,
                        source: origin.source, request: origin.request),
                    sequence: sequence, txn: txn, context: context)
                try engine.planDeletes(bucket: bucket, key: key, record: previous, txn: txn)
                try engine.dropReferences(previous.heldChunks, txn: txn, context: context)
                try txn.deleteObject(engine.objects, bucket: bucket, key: key)
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }
}
