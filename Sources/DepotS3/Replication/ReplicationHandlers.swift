import DepotEngine
import HummingbirdCore

/// PutBucketReplication, GetBucketReplication and DeleteBucketReplication. The rules act as
/// Depot policies (ReplicationPolicies.swift); `x-amz-replication-status` on HEAD and GET reports
/// their copies as it reports every policy's (Get.swift).
extension S3Service {
    /// Whether the bucket has a replication configuration (or is no bucket: false).
    func hasReplicationConfiguration(bucket: String) -> Bool {
        (try? engine.bucket(bucket))?.flatMap { $0.document(ReplicationConfiguration.documentName) } != nil
    }

    func getBucketReplication(_ c: S3Context, bucket: String) throws -> Response {
        try bucketDocumentResponse(bucket, ReplicationConfiguration.documentName, .replication)
    }

    /// Replaces the bucket's configuration with a valid one; a refused one changes nothing. As S3
    /// requires, the bucket's versioning must be Enabled, and each destination must be a
    /// configured tier. The policies in effect follow at once.
    func putBucketReplication(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: ReplicationConfiguration.maximumBytes)
        let configuration = try ReplicationConfiguration(xml: bytes)
        guard try engine.bucket(bucket)?.versioning == .enabled else {
            throw S3Error.invalidRequest("Versioning must be 'Enabled' on the bucket to apply a replication configuration")
        }
        _ = try ReplicationDestination.resolve(configuration, tiers: settings.tiers())
        try await engine.setBucketDocument(
            bucket, name: ReplicationConfiguration.documentName, Array(configuration.document.text.utf8))
        try await settings.lifecycleChanged()
        return emptyResponse(.ok)
    }

    func deleteBucketReplication(_ c: S3Context, bucket: String) async throws -> Response {
        try requireBucket(bucket)
        try await engine.setBucketDocument(bucket, name: ReplicationConfiguration.documentName, nil)
        try await settings.lifecycleChanged()
        return emptyResponse(.noContent)
    }

    /// PutBucketVersioning may not suspend versioning under a replication configuration, as S3
    /// refuses it: the rules need every version.
    func refuseSuspendingReplicatedBucket(_ bucket: String) throws {
        guard hasReplicationConfiguration(bucket: bucket) else { return }
        throw S3Error(
            "InvalidBucketState", .conflict,
            "Replication configuration is present on this bucket, so you cannot change the versioning state. To change the versioning state, first delete the replication configuration."
        )
    }
}
