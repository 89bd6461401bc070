import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore
import NIOCore

/// PutBucketPolicy / GetBucketPolicy / DeleteBucketPolicy (`?policy`), GetBucketPolicyStatus
/// (`?policyStatus`) and Put/Get/DeletePublicAccessBlock (`?publicAccessBlock`).
///
/// Who may call them: reading needs `list` on the bucket, as reading its other settings
/// (versioning, tagging) does. Setting or removing a policy or a public access block needs FULL
/// CONTROL of the bucket in the account's `allow` list (read, write, delete and list, with no
/// prefix): a policy can give any of these away, to anyone, so an account that holds only some
/// of them (a camera that may write) must not be able to write one. A bucket policy's own Allow
/// never grants these operations; its Deny applies, except to an account with `admin`.
extension S3Service {
    func bucketPolicyOperation(_ endpoint: S3Endpoint, _ c: S3Context, bucket: String, body: RequestBody) async throws
        -> Response
    {
        switch endpoint {
        case .getBucketPolicy:
            try requireBucket(bucket)
            guard let bytes = c.bucketAccess.record?.document(BucketPolicy.documentName) else {
                throw BucketConfiguration.policy.notConfigured(bucket: bucket)!
            }
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            headers[.contentLength] = String(bytes.count)
            return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
        case .putBucketPolicy:
            try requireFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            let bytes = try await readSmallBody(c, body, limit: BucketPolicy.maximumBytes * 2)
            let policy: BucketPolicy
            do {
                policy = try BucketPolicy(parsing: bytes, bucket: bucket)
            } catch let problem as PolicyProblem {
                throw S3Error("MalformedPolicy", .badRequest, problem.message)
            }
            if policy.isPublic, c.bucketAccess.block.blockPublicPolicy {
                throw S3Error.accessDenied(
                    "Access Denied: the bucket's PublicAccessBlock (BlockPublicPolicy) refuses a policy that grants access to everyone"
                )
            }
            try await engine.setBucketDocument(bucket, name: BucketPolicy.documentName, bytes)
            return emptyResponse(.noContent)
        case .deleteBucketPolicy:
            try requireFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            try await engine.setBucketDocument(bucket, name: BucketPolicy.documentName, nil)
            return emptyResponse(.noContent)
        case .getBucketPolicyStatus:
            try requireBucket(bucket)
            guard c.bucketAccess.policy != nil || c.bucketAccess.policyUnreadable else {
                throw BucketConfiguration.policyStatus.notConfigured(bucket: bucket)!
            }
            var xml = XMLWriter()
            xml.group("PolicyStatus", namespace: true) { x in x.element("IsPublic", c.bucketAccess.isPublic) }
            return xmlResponse(xml)
        case .getPublicAccessBlock:
            try requireBucket(bucket)
            guard c.bucketAccess.record?.document(PublicAccessBlock.documentName) != nil else {
                throw BucketConfiguration.publicAccessBlock.notConfigured(bucket: bucket)!
            }
            return xmlResponse(c.bucketAccess.block.xml)
        case .putPublicAccessBlock:
            try requireFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            let block = try PublicAccessBlock(xml: try await readSmallBody(c, body, limit: 16 << 10))
            try await engine.setBucketDocument(bucket, name: PublicAccessBlock.documentName, Array(block.xml.text.utf8))
            return emptyResponse(.ok)
        case .deletePublicAccessBlock:
            try requireFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            try await engine.setBucketDocument(bucket, name: PublicAccessBlock.documentName, nil)
            return emptyResponse(.noContent)
        default:
            throw S3Error.methodNotAllowed()
        }
    }

    /// Full control of the bucket in the `allow` list (see above), and no Deny of the policy.
    private func requireFullControl(_ c: S3Context, bucket: String) throws {
        let full = [Action.read, .write, .delete, .list].allSatisfy { c.account.allows($0, bucket: bucket, key: nil) }
        try requireAccess(
            c, action: c.policyAction, bucket: bucket, key: nil, allowListAllows: full,
            message:
                "Access Denied: setting a bucket's policy or public access block needs read, write, delete and list on the whole bucket"
        )
    }
}
