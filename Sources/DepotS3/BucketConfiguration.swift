import DepotConfig
import HTTPTypes
import HummingbirdCore

/// Bucket configurations Depot never holds. Tools read them (s3cmd `info`, rclone, minio-go
/// `Stat*`), so a GET answers what AWS answers for a bucket where it is not set; setting one is
/// refused with 501 at the endpoint table.
public enum BucketConfiguration: String, Sendable, CaseIterable {
    case policy, policyStatus, cors, lifecycle, encryption, website, replication, publicAccessBlock, ownershipControls
    case objectLock = "object-lock"
    case versioning, notification, logging, requestPayment, accelerate

    /// The AWS operation that reads it.
    var getOperation: String {
        switch self {
        case .policy: "GetBucketPolicy"
        case .policyStatus: "GetBucketPolicyStatus"
        case .cors: "GetBucketCors"
        case .lifecycle: "GetBucketLifecycleConfiguration"
        case .encryption: "GetBucketEncryption"
        case .website: "GetBucketWebsite"
        case .replication: "GetBucketReplication"
        case .publicAccessBlock: "GetPublicAccessBlock"
        case .ownershipControls: "GetBucketOwnershipControls"
        case .objectLock: "GetObjectLockConfiguration"
        case .versioning: "GetBucketVersioning"
        case .notification: "GetBucketNotificationConfiguration"
        case .logging: "GetBucketLogging"
        case .requestPayment: "GetBucketRequestPayment"
        case .accelerate: "GetBucketAccelerateConfiguration"
        }
    }

    /// AWS's error for "this bucket has none", where AWS answers with an error.
    func notConfigured(bucket: String) -> S3Error? {
        func error(_ code: String, _ message: String) -> S3Error {
            S3Error(code, .notFound, message, details: [("BucketName", bucket)])
        }
        switch self {
        case .policy, .policyStatus: return error("NoSuchBucketPolicy", "The bucket policy does not exist")
        case .cors: return error("NoSuchCORSConfiguration", "The CORS configuration does not exist")
        case .lifecycle: return error("NoSuchLifecycleConfiguration", "The lifecycle configuration does not exist")
        case .encryption:
            return error(
                "ServerSideEncryptionConfigurationNotFoundError", "The server side encryption configuration was not found")
        case .website: return error("NoSuchWebsiteConfiguration", "The specified bucket does not have a website configuration")
        case .replication: return error("ReplicationConfigurationNotFoundError", "The replication configuration was not found")
        case .publicAccessBlock:
            return error(
                "NoSuchPublicAccessBlockConfiguration", "The public access block configuration was not found")
        case .ownershipControls:
            return error("OwnershipControlsNotFoundError", "The bucket ownership controls were not found")
        case .objectLock:
            return error("ObjectLockConfigurationNotFoundError", "Object Lock configuration does not exist for this bucket")
        case .versioning, .notification, .logging, .requestPayment, .accelerate: return nil
        }
    }

    /// The empty document AWS returns where "not set" is a normal answer.
    func emptyDocument() -> XMLWriter {
        var xml = XMLWriter()
        switch self {
        case .versioning: xml.group("VersioningConfiguration", namespace: true) { _ in }
        case .notification: xml.group("NotificationConfiguration", namespace: true) { _ in }
        case .logging: xml.group("BucketLoggingStatus", namespace: true) { _ in }
        case .requestPayment:
            xml.group("RequestPaymentConfiguration", namespace: true) { x in x.element("Payer", "BucketOwner") }
        default: xml.group("AccelerateConfiguration", namespace: true) { _ in }
        }
        return xml
    }
}

extension S3Service {
    /// GET of a configuration that is never set: the bucket must exist, then AWS's answer.
    func getBucketConfiguration(_ c: S3Context, bucket: String, _ configuration: BucketConfiguration) throws -> Response {
        try requireBucket(bucket)
        if let error = configuration.notConfigured(bucket: bucket) { throw error }
        return xmlResponse(configuration.emptyDocument())
    }
}
