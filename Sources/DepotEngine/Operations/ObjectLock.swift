import DepotStorage

/// S3 Object Lock: the bucket's configuration. What a lock forbids is decided in
/// ObjectLockRules.swift.
extension Engine {
    /// PutObjectLockConfiguration. A bucket without Object Lock gets it only while its versioning
    /// is Enabled (AWS's rule since 2023), and then keeps it for good.
    public func setObjectLockConfiguration(bucket: String, _ lock: BucketObjectLock) async throws {
        // Logged with the bucket (updateBucket), so a rebuild restores it.
        try await updateBucket(bucket) { record, _ in
            if record.objectLock == nil, record.versioning != .enabled {
                throw EngineError.invalidBucketState(
                    "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration")
            }
            guard record.objectLock != lock else { return false }
            record.objectLock = lock
            return true
        }
    }
}
