/// The S3 API reference's sub-resources: for each query flag, the AWS operation it selects per
/// method, on a bucket and on an object. `LIST` is the GET without an `id` (the configuration
/// collections). Anything not here and not a plain parameter is an unknown sub-resource.
enum S3Subresources {
    static let bucket: [String: [String: String]] = [
        "acl": ["GET": "GetBucketAcl", "PUT": "PutBucketAcl"],
        "accelerate": ["GET": "GetBucketAccelerateConfiguration", "PUT": "PutBucketAccelerateConfiguration"],
        "analytics": [
            "GET": "GetBucketAnalyticsConfiguration", "LIST": "ListBucketAnalyticsConfigurations",
            "PUT": "PutBucketAnalyticsConfiguration", "DELETE": "DeleteBucketAnalyticsConfiguration",
        ],
        "cors": ["GET": "GetBucketCors", "PUT": "PutBucketCors", "DELETE": "DeleteBucketCors"],
        "delete": ["POST": "DeleteObjects"],
        "encryption": ["GET": "GetBucketEncryption", "PUT": "PutBucketEncryption", "DELETE": "DeleteBucketEncryption"],
        "intelligent-tiering": [
            "GET": "GetBucketIntelligentTieringConfiguration", "LIST": "ListBucketIntelligentTieringConfigurations",
            "PUT": "PutBucketIntelligentTieringConfiguration", "DELETE": "DeleteBucketIntelligentTieringConfiguration",
        ],
        "inventory": [
            "GET": "GetBucketInventoryConfiguration", "LIST": "ListBucketInventoryConfigurations",
            "PUT": "PutBucketInventoryConfiguration", "DELETE": "DeleteBucketInventoryConfiguration",
        ],
        "lifecycle": [
            "GET": "GetBucketLifecycleConfiguration", "PUT": "PutBucketLifecycleConfiguration",
            "DELETE": "DeleteBucketLifecycle",
        ],
        "location": ["GET": "GetBucketLocation"],
        "logging": ["GET": "GetBucketLogging", "PUT": "PutBucketLogging"],
        "metrics": [
            "GET": "GetBucketMetricsConfiguration", "LIST": "ListBucketMetricsConfigurations",
            "PUT": "PutBucketMetricsConfiguration", "DELETE": "DeleteBucketMetricsConfiguration",
        ],
        "notification": ["GET": "GetBucketNotificationConfiguration", "PUT": "PutBucketNotificationConfiguration"],
        "object-lock": ["GET": "GetObjectLockConfiguration", "PUT": "PutObjectLockConfiguration"],
        "ownershipControls": [
            "GET": "GetBucketOwnershipControls", "PUT": "PutBucketOwnershipControls",
            "DELETE": "DeleteBucketOwnershipControls",
        ],
        "policy": ["GET": "GetBucketPolicy", "PUT": "PutBucketPolicy", "DELETE": "DeleteBucketPolicy"],
        "policyStatus": ["GET": "GetBucketPolicyStatus"],
        "publicAccessBlock": ["GET": "GetPublicAccessBlock", "PUT": "PutPublicAccessBlock", "DELETE": "DeletePublicAccessBlock"],
        "replication": ["GET": "GetBucketReplication", "PUT": "PutBucketReplication", "DELETE": "DeleteBucketReplication"],
        "requestPayment": ["GET": "GetBucketRequestPayment", "PUT": "PutBucketRequestPayment"],
        "tagging": ["GET": "GetBucketTagging", "PUT": "PutBucketTagging", "DELETE": "DeleteBucketTagging"],
        "uploads": ["GET": "ListMultipartUploads"],
        "versioning": ["GET": "GetBucketVersioning", "PUT": "PutBucketVersioning"],
        "versions": ["GET": "ListObjectVersions"],
        "website": ["GET": "GetBucketWebsite", "PUT": "PutBucketWebsite", "DELETE": "DeleteBucketWebsite"],
        "session": ["GET": "CreateSession"],
        "metadataTable": [
            "GET": "GetBucketMetadataTableConfiguration", "POST": "CreateBucketMetadataTableConfiguration",
            "DELETE": "DeleteBucketMetadataTableConfiguration",
        ],
        "metadataConfiguration": [
            "GET": "GetBucketMetadataConfiguration", "POST": "CreateBucketMetadataConfiguration",
            "DELETE": "DeleteBucketMetadataConfiguration",
        ],
        "metadataInventoryTable": ["PUT": "UpdateBucketMetadataInventoryTableConfiguration"],
        "metadataJournalTable": ["PUT": "UpdateBucketMetadataJournalTableConfiguration"],
        "abac": ["GET": "GetBucketAbac", "PUT": "PutBucketAbac"],
        // Multipart parameters named on a bucket: a client that lost the key must not reach DeleteBucket.
        "uploadId": [:],
        // MinIO's ListenBucketNotification (minio-go, minio-py): a long poll Depot does not offer.
        "events": ["GET": "ListenBucketNotification"],
    ]

    static let object: [String: [String: String]] = [
        "acl": ["GET": "GetObjectAcl", "PUT": "PutObjectAcl"],
        "attributes": ["GET": "GetObjectAttributes"],
        "legal-hold": ["GET": "GetObjectLegalHold", "PUT": "PutObjectLegalHold"],
        "retention": ["GET": "GetObjectRetention", "PUT": "PutObjectRetention"],
        "restore": ["POST": "RestoreObject"],
        "select": ["POST": "SelectObjectContent"],
        "tagging": ["GET": "GetObjectTagging", "PUT": "PutObjectTagging", "DELETE": "DeleteObjectTagging"],
        "torrent": ["GET": "GetObjectTorrent"],
        "uploads": ["POST": "CreateMultipartUpload"],
        "uploadId": [
            "PUT": "UploadPart", "GET": "ListParts", "DELETE": "AbortMultipartUpload", "POST": "CompleteMultipartUpload",
        ],
        "renameObject": ["PUT": "RenameObject"],
    ]

    /// Parameters that refine an operation without selecting another one.
    static let plainParameters: Set<String> = [
        // Listings.
        "prefix", "delimiter", "marker", "max-keys", "encoding-type", "list-type", "continuation-token", "start-after",
        "fetch-owner", "key-marker", "version-id-marker", "upload-id-marker", "max-uploads", "max-parts",
        "part-number-marker", "max-buckets", "bucket-region", "allow-unordered",
        // Objects.
        "versionId", "partNumber", "response-content-type", "response-content-language", "response-expires",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        // Configuration ids, SelectObjectContent's type, the operation hint SDKs add.
        "id", "select-type", "x-id",
        // Presigned Signature Version 2.
        "AWSAccessKeyId", "Signature", "Expires",
    ]

    static func isPlainParameter(_ name: String) -> Bool {
        // Presigned Signature Version 4 (X-Amz-Algorithm, X-Amz-Credential...) and other x-amz-* overrides.
        plainParameters.contains(name) || name.lowercased().hasPrefix("x-amz-")
    }
}
