import DepotEngine
import HTTPTypes
import HummingbirdCore
import NIOCore

/// PutBucketLifecycleConfiguration, GetBucketLifecycleConfiguration and DeleteBucketLifecycle,
/// and the `x-amz-expiration` header of objects a rule will expire.
extension S3Service {
    /// The bucket's lifecycle configuration; nil when it has none (or no such bucket).
    func lifecycleConfiguration(bucket: String) -> LifecycleConfiguration? {
        storedBucketDocument(bucket, LifecycleConfiguration.documentName, what: "lifecycle configuration") {
            try LifecycleConfiguration(xml: $0)
        }
    }

    func getBucketLifecycle(_ c: S3Context, bucket: String) throws -> Response {
        try bucketDocumentResponse(bucket, LifecycleConfiguration.documentName, .lifecycle)
    }

    /// Replaces the bucket's configuration with a valid one; a refused one changes nothing. The
    /// policies in effect follow at once.
    func putBucketLifecycle(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: LifecycleConfiguration.maximumBytes)
        let configuration = try LifecycleConfiguration(xml: bytes)
        try await engine.setBucketDocument(
            bucket, name: LifecycleConfiguration.documentName, Array(configuration.document.text.utf8))
        try await settings.lifecycleChanged()
        return emptyResponse(.ok)
    }

    func deleteBucketLifecycle(_ c: S3Context, bucket: String) async throws -> Response {
        try requireBucket(bucket)
        try await engine.setBucketDocument(bucket, name: LifecycleConfiguration.documentName, nil)
        try await settings.lifecycleChanged()
        return emptyResponse(.noContent)
    }

    /// Adds `x-amz-expiration` for a current object that a rule of its bucket will expire.
    func addExpirationHeader(bucket: String, key: String, record: ObjectRecord, to headers: inout HTTPFields) {
        guard let configuration = lifecycleConfiguration(bucket: bucket),
            let value = LifecyclePolicies.expirationHeader(
                configuration: configuration, bucket: bucket, key: key, record: record)
        else { return }
        headers[.init("x-amz-expiration")!] = value
    }
}
