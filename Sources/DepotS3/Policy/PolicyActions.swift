/// The one table from Depot's S3 operations to the policy language's action names (AWS's
/// "Actions defined by Amazon S3"), and the action names a policy may name.
enum PolicyActions {
    /// What an action applies to: the bucket (`arn:aws:s3:::bucket`) or an object in it
    /// (`arn:aws:s3:::bucket/key`). A statement whose actions apply to none of its resources is
    /// refused, as AWS refuses it ("Action does not apply to any resource(s) in statement").
    enum Target: Sendable { case bucket, object, service }

    /// The policy action an endpoint asks for. `versioned`: the request names a `versionId`
    /// (AWS asks for the …Version action then: a public GetObject grant does not open old versions).
    /// nil: the endpoint is no S3 operation a bucket policy could grant (refused before it matters).
    static func action(for endpoint: S3Endpoint, versioned: Bool = false) -> String? {
        switch endpoint {
        case .listBuckets: "s3:ListAllMyBuckets"
        case .createBucket: "s3:CreateBucket"
        case .headBucket, .listObjects, .listObjectsV2: "s3:ListBucket"
        case .deleteBucket: "s3:DeleteBucket"
        case .getBucketLocation: "s3:GetBucketLocation"
        case .listObjectVersions: "s3:ListBucketVersions"
        case .listMultipartUploads: "s3:ListBucketMultipartUploads"
        case .getBucketTagging: "s3:GetBucketTagging"
        case .putBucketTagging, .deleteBucketTagging: "s3:PutBucketTagging"
        case .getBucketAcl: "s3:GetBucketAcl"
        case .putBucketAcl: "s3:PutBucketAcl"
        case .getBucketOwnershipControls: "s3:GetBucketOwnershipControls"
        case .putBucketOwnershipControls, .deleteBucketOwnershipControls: "s3:PutBucketOwnershipControls"
        case .getBucketVersioning: "s3:GetBucketVersioning"
        case .putBucketVersioning: "s3:PutBucketVersioning"
        case .getObjectLockConfiguration: "s3:GetBucketObjectLockConfiguration"
        case .putObjectLockConfiguration: "s3:PutBucketObjectLockConfiguration"
        case .getObjectRetention: "s3:GetObjectRetention"
        case .putObjectRetention: "s3:PutObjectRetention"
        case .getObjectLegalHold: "s3:GetObjectLegalHold"
        case .putObjectLegalHold: "s3:PutObjectLegalHold"
        case .getBucketPolicy: "s3:GetBucketPolicy"
        case .putBucketPolicy: "s3:PutBucketPolicy"
        case .deleteBucketPolicy: "s3:DeleteBucketPolicy"
        case .getBucketPolicyStatus: "s3:GetBucketPolicyStatus"
        case .getPublicAccessBlock: "s3:GetBucketPublicAccessBlock"
        case .putPublicAccessBlock, .deletePublicAccessBlock: "s3:PutBucketPublicAccessBlock"
        case .getBucketCors: "s3:GetBucketCORS"
        case .putBucketCors, .deleteBucketCors: "s3:PutBucketCORS"
        case .getBucketLifecycle: "s3:GetLifecycleConfiguration"
        case .putBucketLifecycle, .deleteBucketLifecycle: "s3:PutLifecycleConfiguration"
        case .getBucketReplication: "s3:GetReplicationConfiguration"
        case .putBucketReplication, .deleteBucketReplication: "s3:PutReplicationConfiguration"
        case .getBucketNotification: "s3:GetBucketNotification"
        case .putBucketNotification: "s3:PutBucketNotification"
        case .getBucketEncryption: "s3:GetEncryptionConfiguration"
        case .putBucketEncryption, .deleteBucketEncryption: "s3:PutEncryptionConfiguration"
        case .getBucketConfiguration(let configuration): configurationAction(configuration)
        case .deleteObjects, .deleteObject: versioned ? "s3:DeleteObjectVersion" : "s3:DeleteObject"
        case .postObject, .putObject, .copyObject, .createMultipartUpload, .uploadPart, .uploadPartCopy,
            .completeMultipartUpload:
            "s3:PutObject"
        case .getObject, .headObject: versioned ? "s3:GetObjectVersion" : "s3:GetObject"
        case .abortMultipartUpload: "s3:AbortMultipartUpload"
        case .listParts: "s3:ListMultipartUploadParts"
        case .getObjectTagging: versioned ? "s3:GetObjectVersionTagging" : "s3:GetObjectTagging"
        case .putObjectTagging: versioned ? "s3:PutObjectVersionTagging" : "s3:PutObjectTagging"
        case .deleteObjectTagging: versioned ? "s3:DeleteObjectVersionTagging" : "s3:DeleteObjectTagging"
        case .getObjectAcl: versioned ? "s3:GetObjectVersionAcl" : "s3:GetObjectAcl"
        case .putObjectAcl: versioned ? "s3:PutObjectVersionAcl" : "s3:PutObjectAcl"
        case .getObjectAttributes: versioned ? "s3:GetObjectVersionAttributes" : "s3:GetObjectAttributes"
        case .preflight, .notImplemented, .unknownSubresource, .conflictingSubresources, .methodNotAllowed: nil
        }
    }

    private static func configurationAction(_ configuration: BucketConfiguration) -> String {
        switch configuration {
        case .policy: "s3:GetBucketPolicy"
        case .policyStatus: "s3:GetBucketPolicyStatus"
        case .cors: "s3:GetBucketCORS"
        case .lifecycle: "s3:GetLifecycleConfiguration"
        case .encryption: "s3:GetEncryptionConfiguration"
        case .website: "s3:GetBucketWebsite"
        case .replication: "s3:GetReplicationConfiguration"
        case .publicAccessBlock: "s3:GetBucketPublicAccessBlock"
        case .ownershipControls: "s3:GetBucketOwnershipControls"
        case .objectLock: "s3:GetBucketObjectLockConfiguration"
        case .versioning: "s3:GetBucketVersioning"
        case .notification: "s3:GetBucketNotification"
        case .logging: "s3:GetBucketLogging"
        case .requestPayment: "s3:GetBucketRequestPayment"
        case .accelerate: "s3:GetAccelerateConfiguration"
        }
    }

    /// Actions that manage who may do what: a bucket policy's Allow never grants them (only the
    /// `allow` list's full control of the bucket does, see BucketPolicyHandlers), and its Deny
    /// does not stop an account with `admin`, so a policy that denies everything can be removed.
    static let managesAccess: Set<String> = [
        "s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy", "s3:putbucketpublicaccessblock",
        "s3:getbucketpublicaccessblock", "s3:putbucketownershipcontrols",
    ]

    /// Every S3 action a policy may name (lower-cased, as the language compares them), with
    /// what it applies to. Actions Depot does not carry out are still valid policy text: a
    /// generator writes them, and they simply never match a request.
    static let known: [String: Target] = {
        var table: [String: Target] = [:]
        for name in bucketActions { table[name.lowercased()] = .bucket }
        for name in objectActions { table[name.lowercased()] = .object }
        for name in ["s3:ListAllMyBuckets", "s3:CreateBucket", "s3:ListBucketsAccessPoints"] {
            table[name.lowercased()] = .service
        }
        // CreateBucket is granted on the bucket's ARN in AWS's reference.
        table["s3:createbucket"] = .bucket
        return table
    }()

    private static let bucketActions = [
        "s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads", "s3:DeleteBucket",
        "s3:GetBucketLocation", "s3:GetBucketTagging", "s3:PutBucketTagging", "s3:GetBucketAcl", "s3:PutBucketAcl",
        "s3:GetBucketVersioning", "s3:PutBucketVersioning", "s3:GetBucketObjectLockConfiguration",
        "s3:PutBucketObjectLockConfiguration", "s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy",
        "s3:GetBucketPolicyStatus", "s3:GetBucketPublicAccessBlock", "s3:PutBucketPublicAccessBlock",
        "s3:GetBucketCORS", "s3:PutBucketCORS", "s3:GetLifecycleConfiguration", "s3:PutLifecycleConfiguration",
        "s3:GetEncryptionConfiguration", "s3:PutEncryptionConfiguration", "s3:GetBucketWebsite", "s3:PutBucketWebsite",
        "s3:DeleteBucketWebsite", "s3:GetReplicationConfiguration", "s3:PutReplicationConfiguration",
        "s3:GetBucketOwnershipControls", "s3:PutBucketOwnershipControls", "s3:GetBucketNotification",
        "s3:PutBucketNotification", "s3:GetBucketLogging", "s3:PutBucketLogging", "s3:GetBucketRequestPayment",
        "s3:PutBucketRequestPayment", "s3:GetAccelerateConfiguration", "s3:PutAccelerateConfiguration",
        "s3:ListenBucketNotification", "s3:GetAnalyticsConfiguration", "s3:PutAnalyticsConfiguration",
        "s3:GetInventoryConfiguration", "s3:PutInventoryConfiguration", "s3:GetMetricsConfiguration",
        "s3:PutMetricsConfiguration", "s3:GetIntelligentTieringConfiguration", "s3:PutIntelligentTieringConfiguration",
        "s3:ReplicateDelete", "s3:GetBucketObjectLockConfiguration",
    ]

    private static let objectActions = [
        "s3:GetObject", "s3:GetObjectVersion", "s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion",
        "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts", "s3:GetObjectTagging", "s3:GetObjectVersionTagging",
        "s3:PutObjectTagging", "s3:PutObjectVersionTagging", "s3:DeleteObjectTagging", "s3:DeleteObjectVersionTagging",
        "s3:GetObjectAcl", "s3:GetObjectVersionAcl", "s3:PutObjectAcl", "s3:PutObjectVersionAcl",
        "s3:GetObjectAttributes", "s3:GetObjectVersionAttributes", "s3:GetObjectRetention", "s3:PutObjectRetention",
        "s3:GetObjectLegalHold", "s3:PutObjectLegalHold", "s3:BypassGovernanceRetention", "s3:RestoreObject",
        "s3:GetObjectTorrent", "s3:GetObjectVersionTorrent", "s3:ReplicateObject", "s3:ReplicateTags",
        "s3:GetObjectVersionForReplication", "s3:ObjectOwnerOverrideToBucketOwner",
    ]
}
