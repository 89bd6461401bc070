import DepotStorage

extension Engine {
    /// Removes an object; returns false when there was none (S3 answers 204 either way).
    @discardableResult
    public func deleteObject(
        bucket: String, key: String, precondition: CommitPrecondition? = nil
    ) async throws -> Bool {
        guard key.utf8.count + bucket.utf8.count + 1 <= maxIndexKeyLength else { return false }
        let engine = self
        do {
            return try await committer.submit { txn, context in
                guard try txn.contains(engine.buckets, Array(bucket.utf8)) else { throw EngineError.noSuchBucket(bucket) }
                let objectKey = Tables.objectKey(bucket: bucket, key: key)
                guard let value = try txn.get(engine.objects, objectKey) else {
                    try precondition?(nil)
                    return false
                }
                let previous = try value.withUnsafeBytes { try ObjectRecord.decodeValue($0) }
                try precondition?(previous)
                _ = try context.log(.objectDelete(bucket: bucket, key: key))
                try engine.planDeletes(bucket: bucket, key: key, record: previous, txn: txn)
                try engine.dropReferences(previous.heldChunks, txn: txn, context: context)
                try txn.delete(engine.objects, objectKey)
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }
}
