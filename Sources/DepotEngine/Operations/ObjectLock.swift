import DepotStorage

/// S3 Object Lock: the bucket's configuration. What a lock forbids is decided in
/// ObjectLockRules.swift.
extension Engine {
    /// PutObjectLockConfiguration. A bucket without Object Lock gets it only while its versioning
    /// is Enabled (AWS's rule since 2023), and then keeps it for good.
    public func setObjectLockConfiguration(bucket: String, _ lock: BucketObjectLock) async throws {
        let engine = self
        do {
            try await committer.submit { txn, context in
                let nameKey = Array(bucket.utf8)
                guard let bytes = try txn.get(engine.buckets, nameKey) else { throw EngineError.noSuchBucket(bucket) }
                var record = try bytes.decode { try BucketRecord.decode(&$0) }
                if record.objectLock == nil, record.versioning != .enabled {
                    throw EngineError.invalidBucketState(
                        "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
                }
                guard record.objectLock != lock else { return }
                record.objectLock = lock
                // Logged with the bucket, so a rebuild restores it.
                _ = try context.log(.bucketCreate(name: bucket, record: record))
                try txn.put(engine.buckets, nameKey, record.encoded())
            }
        } catch { throw EngineError.wrap(error) }
    }
}
