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
        // A Transition names a class, and so a tier: one that no tier declares is refused as
        // MinIO refuses a transition to an unknown tier.
        let classes = settings.configurationView().storageClasses
        for rule in configuration.rules {
            guard let transition = rule.transition else { continue }
            guard classes.tierOfClass[transition.storageClass] != nil else {
                throw S3Error(
                    "InvalidStorageClass", .badRequest,
                    "The storage class you specified is not valid: \(transition.storageClass) (rule \(rule.id), Transition.StorageClass; no tier declares it)"
                )
            }
        }
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

    /// Adds `x-amz-expiration` for a current object that a rule of its bucket will expire, from
    /// the rules in effect (a bucket without rules costs one dictionary lookup).
    func addExpirationHeader(bucket: String, key: String, record: ObjectRecord, to headers: inout HTTPFields) {
        guard let policies = settings.configurationView().lifecyclePolicies[bucket],
            let value = LifecyclePolicies.expirationHeader(policies: policies, bucket: bucket, key: key, record: record)
        else { return }
        headers[.init("x-amz-expiration")!] = value
    }
}
