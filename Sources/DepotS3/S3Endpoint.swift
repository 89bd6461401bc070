import DepotConfig
import HTTPTypes

/// Every S3 request, decided once: which operation it asks for (by AWS's name, for metrics and
/// access logs), which permission it needs, and which handler answers it. The decision reads only
/// the method, whether a bucket and a key are named, the query's parameter names and whether
/// `x-amz-copy-source` is present, so it needs no authentication and no body.
///
/// What Depot does not carry out is refused here, by name, instead of falling through to a
/// neighbouring operation: `DELETE /bucket?publicAccessBlock` once deleted the bucket.
public enum S3Endpoint: Equatable, Sendable {
    case listBuckets
    case createBucket, headBucket, deleteBucket, getBucketLocation
    case listObjects, listObjectsV2, listObjectVersions, listMultipartUploads
    case getBucketTagging, putBucketTagging, deleteBucketTagging
    case getBucketAcl, putBucketAcl
    case getBucketOwnershipControls, putBucketOwnershipControls, deleteBucketOwnershipControls
    case getBucketVersioning, putBucketVersioning
    case getObjectLockConfiguration, putObjectLockConfiguration
    case getObjectRetention, putObjectRetention, getObjectLegalHold, putObjectLegalHold
    case getBucketCors, putBucketCors, deleteBucketCors
    case getBucketLifecycle, putBucketLifecycle, deleteBucketLifecycle
    case getBucketReplication, putBucketReplication, deleteBucketReplication
    case getBucketNotification, putBucketNotification
    case getBucketEncryption, putBucketEncryption, deleteBucketEncryption
    case getBucketPolicy, putBucketPolicy, deleteBucketPolicy, getBucketPolicyStatus
    case getPublicAccessBlock, putPublicAccessBlock, deletePublicAccessBlock
    /// A GET of a bucket configuration Depot never holds: AWS's "not configured" answer.
    case getBucketConfiguration(BucketConfiguration)
    case deleteObjects, postObject
    case putObject, copyObject, getObject, headObject, deleteObject
    case createMultipartUpload, uploadPart, uploadPartCopy, completeMultipartUpload, abortMultipartUpload, listParts
    case getObjectTagging, putObjectTagging, deleteObjectTagging
    case getObjectAcl, putObjectAcl
    case getObjectAttributes
    /// A CORS preflight (`OPTIONS`): unauthenticated, answered from the bucket's CORS rules (CORS.swift).
    case preflight
    /// An S3 operation Depot does not carry out: 501 NotImplemented naming it.
    case notImplemented(operation: String, subresource: String)
    /// A query flag that is neither an S3 sub-resource nor a parameter Depot knows: 501 naming it.
    case unknownSubresource(String)
    /// Two sub-resources that select different operations (`?acl&tagging`).
    case conflictingSubresources([String])
    /// A method this resource (or sub-resource) does not take.
    case methodNotAllowed

    /// Decides the endpoint of a parsed request.
    public init(_ r: S3Request) {
        self.init(
            method: r.method, hasBucket: r.bucket != nil, hasKey: r.key != nil, query: r.query,
            hasCopySource: r.headers[.amzCopySource] != nil)
    }

    public init(method: HTTPRequest.Method, hasBucket: Bool, hasKey: Bool, query: [String: String], hasCopySource: Bool) {
        if method == .options {
            self = .preflight
            return
        }
        let table = hasKey ? S3Subresources.object : S3Subresources.bucket
        let readsOnly = method == .get || method == .head
        var selectors: [String] = []
        var unknown: [String] = []
        for (name, value) in query {
            if table[name] != nil {
                selectors.append(name)
            } else if !S3Subresources.isPlainParameter(name) && (value.isEmpty || !readsOnly) {
                // A bare flag looks like a sub-resource, and a write must not guess: neither may
                // fall through to the plain operation.
                unknown.append(name)
            }
            // On GET and HEAD an unknown parameter with a value is ignored, as AWS does (cache busters).
        }
        if let first = unknown.min() {
            self = .unknownSubresource(first)
            return
        }
        guard hasBucket else {
            if let first = selectors.min() {
                self = .unknownSubresource(first)
            } else {
                self = method == .get ? .listBuckets : .methodNotAllowed
            }
            return
        }
        guard selectors.count <= 1 else {
            self = .conflictingSubresources(selectors.sorted())
            return
        }
        guard let subresource = selectors.first else {
            self = Self.plain(method: method, hasKey: hasKey, query: query, hasCopySource: hasCopySource)
            return
        }
        guard let operation = Self.operation(table[subresource]!, method: method, query: query) else {
            self = .methodNotAllowed
            return
        }
        self =
            Self.implemented[operation] ?? Self.configurationGets[operation].map { .getBucketConfiguration($0) }
            ?? .notImplemented(operation: operation, subresource: subresource)
        if self == .uploadPart && hasCopySource { self = .uploadPartCopy }
    }

    /// A request without a sub-resource: the resource's plain operation for this method.
    private static func plain(method: HTTPRequest.Method, hasKey: Bool, query: [String: String], hasCopySource: Bool)
        -> S3Endpoint
    {
        switch (method, hasKey) {
        case (.get, false): return query["list-type"] == "2" ? .listObjectsV2 : .listObjects
        case (.put, false): return .createBucket
        case (.head, false): return .headBucket
        case (.delete, false): return .deleteBucket
        case (.post, false): return .postObject
        case (.get, true): return .getObject
        case (.head, true): return .headObject
        case (.put, true): return hasCopySource ? .copyObject : .putObject
        case (.delete, true): return .deleteObject
        default: return .methodNotAllowed
        }
    }

    /// The AWS operation a sub-resource names for this method; the configuration collections
    /// (analytics, inventory, metrics, intelligent-tiering) are a List without `id`.
    private static func operation(_ byMethod: [String: String], method: HTTPRequest.Method, query: [String: String])
        -> String?
    {
        if method == .get, query["id"] == nil, let list = byMethod["LIST"] { return list }
        return byMethod[method.rawValue]
    }

    /// The operations Depot carries out, by AWS name.
    private static let implemented: [String: S3Endpoint] = [
        "GetBucketLocation": .getBucketLocation, "ListObjectVersions": .listObjectVersions,
        "ListMultipartUploads": .listMultipartUploads, "GetBucketTagging": .getBucketTagging,
        "PutBucketTagging": .putBucketTagging, "DeleteBucketTagging": .deleteBucketTagging,
        "GetBucketAcl": .getBucketAcl, "PutBucketAcl": .putBucketAcl, "DeleteObjects": .deleteObjects,
        "CreateMultipartUpload": .createMultipartUpload, "UploadPart": .uploadPart,
        "CompleteMultipartUpload": .completeMultipartUpload, "AbortMultipartUpload": .abortMultipartUpload,
        "ListParts": .listParts, "GetObjectTagging": .getObjectTagging, "PutObjectTagging": .putObjectTagging,
        "DeleteObjectTagging": .deleteObjectTagging, "GetObjectAcl": .getObjectAcl, "PutObjectAcl": .putObjectAcl,
        "GetObjectAttributes": .getObjectAttributes, "GetBucketVersioning": .getBucketVersioning,
        "PutBucketVersioning": .putBucketVersioning, "GetObjectLockConfiguration": .getObjectLockConfiguration,
        "PutObjectLockConfiguration": .putObjectLockConfiguration, "GetObjectRetention": .getObjectRetention,
        "PutObjectRetention": .putObjectRetention, "GetObjectLegalHold": .getObjectLegalHold,
        "PutObjectLegalHold": .putObjectLegalHold,
        "GetBucketOwnershipControls": .getBucketOwnershipControls,
        "PutBucketOwnershipControls": .putBucketOwnershipControls,
        "DeleteBucketOwnershipControls": .deleteBucketOwnershipControls,
        "GetBucketCors": .getBucketCors, "PutBucketCors": .putBucketCors, "DeleteBucketCors": .deleteBucketCors,
        "GetBucketLifecycleConfiguration": .getBucketLifecycle, "PutBucketLifecycleConfiguration": .putBucketLifecycle,
        "DeleteBucketLifecycle": .deleteBucketLifecycle,
        "GetBucketReplication": .getBucketReplication, "PutBucketReplication": .putBucketReplication,
        "DeleteBucketReplication": .deleteBucketReplication,
        "GetBucketNotificationConfiguration": .getBucketNotification,
        "PutBucketNotificationConfiguration": .putBucketNotification,
        "GetBucketEncryption": .getBucketEncryption, "PutBucketEncryption": .putBucketEncryption,
        "DeleteBucketEncryption": .deleteBucketEncryption,
        "GetBucketPolicy": .getBucketPolicy, "PutBucketPolicy": .putBucketPolicy, "DeleteBucketPolicy": .deleteBucketPolicy,
        "GetBucketPolicyStatus": .getBucketPolicyStatus, "GetPublicAccessBlock": .getPublicAccessBlock,
        "PutPublicAccessBlock": .putPublicAccessBlock, "DeletePublicAccessBlock": .deletePublicAccessBlock,
    ]

    private static let configurationGets: [String: BucketConfiguration] = Dictionary(
        uniqueKeysWithValues: BucketConfiguration.allCases.map { ($0.getOperation, $0) })

    /// AWS's name of the operation: the `operation` label of metrics and the access log. A
    /// bounded set (never a name taken from the request), so it is safe as a Prometheus label.
    public var operationName: String {
        switch self {
        case .listBuckets: "ListBuckets"
        case .createBucket: "CreateBucket"
        case .headBucket: "HeadBucket"
        case .deleteBucket: "DeleteBucket"
        case .getBucketLocation: "GetBucketLocation"
        case .listObjects: "ListObjects"
        case .listObjectsV2: "ListObjectsV2"
        case .listObjectVersions: "ListObjectVersions"
        case .listMultipartUploads: "ListMultipartUploads"
        case .getBucketTagging: "GetBucketTagging"
        case .putBucketTagging: "PutBucketTagging"
        case .deleteBucketTagging: "DeleteBucketTagging"
        case .getBucketAcl: "GetBucketAcl"
        case .putBucketAcl: "PutBucketAcl"
        case .getBucketOwnershipControls: "GetBucketOwnershipControls"
        case .putBucketOwnershipControls: "PutBucketOwnershipControls"
        case .deleteBucketOwnershipControls: "DeleteBucketOwnershipControls"
        case .getBucketVersioning: "GetBucketVersioning"
        case .putBucketVersioning: "PutBucketVersioning"
        case .getObjectLockConfiguration: "GetObjectLockConfiguration"
        case .putObjectLockConfiguration: "PutObjectLockConfiguration"
        case .getObjectRetention: "GetObjectRetention"
        case .putObjectRetention: "PutObjectRetention"
        case .getObjectLegalHold: "GetObjectLegalHold"
        case .putObjectLegalHold: "PutObjectLegalHold"
        case .getBucketCors: "GetBucketCors"
        case .putBucketCors: "PutBucketCors"
        case .deleteBucketCors: "DeleteBucketCors"
        case .getBucketLifecycle: "GetBucketLifecycleConfiguration"
        case .putBucketLifecycle: "PutBucketLifecycleConfiguration"
        case .deleteBucketLifecycle: "DeleteBucketLifecycle"
        case .getBucketReplication: "GetBucketReplication"
        case .putBucketReplication: "PutBucketReplication"
        case .deleteBucketReplication: "DeleteBucketReplication"
        case .getBucketNotification: "GetBucketNotificationConfiguration"
        case .putBucketNotification: "PutBucketNotificationConfiguration"
        case .getBucketEncryption: "GetBucketEncryption"
        case .putBucketEncryption: "PutBucketEncryption"
        case .deleteBucketEncryption: "DeleteBucketEncryption"
        case .getBucketPolicy: "GetBucketPolicy"
        case .putBucketPolicy: "PutBucketPolicy"
        case .deleteBucketPolicy: "DeleteBucketPolicy"
        case .getBucketPolicyStatus: "GetBucketPolicyStatus"
        case .getPublicAccessBlock: "GetPublicAccessBlock"
        case .putPublicAccessBlock: "PutPublicAccessBlock"
        case .deletePublicAccessBlock: "DeletePublicAccessBlock"
        case .getBucketConfiguration(let configuration): configuration.getOperation
        case .deleteObjects: "DeleteObjects"
        case .postObject: "PostObject"
        case .putObject: "PutObject"
        case .copyObject: "CopyObject"
        case .getObject: "GetObject"
        case .headObject: "HeadObject"
        case .deleteObject: "DeleteObject"
        case .createMultipartUpload: "CreateMultipartUpload"
        case .uploadPart: "UploadPart"
        case .uploadPartCopy: "UploadPartCopy"
        case .completeMultipartUpload: "CompleteMultipartUpload"
        case .abortMultipartUpload: "AbortMultipartUpload"
        case .listParts: "ListParts"
        case .getObjectTagging: "GetObjectTagging"
        case .putObjectTagging: "PutObjectTagging"
        case .deleteObjectTagging: "DeleteObjectTagging"
        case .getObjectAcl: "GetObjectAcl"
        case .putObjectAcl: "PutObjectAcl"
        case .getObjectAttributes: "GetObjectAttributes"
        case .preflight: "PreflightRequest"
        case .notImplemented(let operation, _): operation
        case .unknownSubresource: "UnknownSubresource"
        case .conflictingSubresources: "ConflictingSubresources"
        case .methodNotAllowed: "MethodNotAllowed"
        }
    }

    /// The permission the account needs on the bucket (and the key, for object endpoints),
    /// checked by the dispatcher before the handler runs. nil: no single check fits, the handler
    /// decides (any grant on the bucket for HeadBucket and GetBucketLocation, each key of a
    /// DeleteObjects, the signed form of a PostObject, the visible buckets of ListBuckets, full
    /// control of the bucket for setting its policy or public access block), or
    /// the request is refused before it would matter.
    public var requiredAction: Action? {
        switch self {
        case .listObjects, .listObjectsV2, .listObjectVersions, .listMultipartUploads, .getBucketTagging,
            .getBucketAcl, .getBucketOwnershipControls, .getBucketConfiguration, .getBucketVersioning, .getObjectLockConfiguration, .getBucketCors,
            .getBucketLifecycle, .getBucketNotification, .getBucketReplication,
            .getBucketPolicy, .getBucketPolicyStatus, .getPublicAccessBlock, .getBucketEncryption:
            .list
        case .createBucket, .putBucketTagging, .deleteBucketTagging, .putBucketAcl, .putBucketVersioning,
            .putObjectLockConfiguration, .putObjectRetention, .putObjectLegalHold, .putObject, .putBucketCors, .deleteBucketCors,
            .putBucketLifecycle, .deleteBucketLifecycle, .putBucketNotification, .putBucketReplication,
            .deleteBucketReplication,
            .copyObject,
            .createMultipartUpload, .uploadPart, .uploadPartCopy, .completeMultipartUpload, .abortMultipartUpload,
            .putObjectTagging, .deleteObjectTagging, .putObjectAcl, .putBucketEncryption, .deleteBucketEncryption:
            .write
        case .deleteBucket, .deleteObject: .delete
        case .getObject, .headObject, .listParts, .getObjectTagging, .getObjectAcl, .getObjectAttributes,
            .getObjectRetention, .getObjectLegalHold:
            .read
        case .listBuckets, .headBucket, .getBucketLocation, .deleteObjects, .postObject, .preflight, .notImplemented,
            .unknownSubresource, .conflictingSubresources, .methodNotAllowed:
            nil
        case .putBucketOwnershipControls, .deleteBucketOwnershipControls:
            // Whether ACLs may open the bucket at all: full control of the bucket (ACLHandlers.swift).
            nil
        case .putBucketPolicy, .deleteBucketPolicy, .putPublicAccessBlock, .deletePublicAccessBlock:
            // Settings that give rights away: the handler asks for full control of the bucket
            // (BucketPolicyHandlers.requireFullControl), more than any one action.
            nil
        }
    }

    /// Whether the endpoint writes an object's bytes or metadata (the header policy applies).
    var writesObject: Bool {
        switch self {
        case .putObject, .copyObject, .createMultipartUpload, .uploadPart, .uploadPartCopy, .postObject: true
        default: false
        }
    }
}
