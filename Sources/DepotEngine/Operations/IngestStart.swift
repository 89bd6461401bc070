extension Engine {
    /// Opens an upload into a bucket whose record the caller read already in this request (the
    /// S3 PUT reads it once, before authorizing): the same checks as `startIngest(bucket:key:)`
    /// without a second read of the record (an LMDB read and decode, in cluster mode a
    /// PostgreSQL round trip). The commit still finds the bucket in its own transaction, so a
    /// bucket deleted meanwhile fails there with NoSuchBucket.
    public func startIngest(bucket: String, key: String, record: BucketRecord) throws -> IngestSession {
        try checkKeyLength(bucket: bucket, key: key)
        return IngestSession(engine: self, bucket: bucket, key: key)
    }
}
