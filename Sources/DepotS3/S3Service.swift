import DepotConfig
import DepotEngine
import DepotObjectBody
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import Synchronization

/// Looks up accounts by access key; the server supplies the directory (config file + index).
public protocol AccountDirectory: Sendable {
    func account(accessKey: String) -> Account?
}

/// Settings of the S3 front door.
public struct S3Settings: Sendable {
    public var region: String
    public var domain: String
    /// Largest single PUT (S3: 5 GiB).
    public var maxPutSize: UInt64 = 5 << 30
    /// Largest object (`server.maxObjectSize`), however it is made; see `requireAllowedSize`.
    public var maxObjectSize: UInt64 = 5 << 40
    /// Allowed clock skew for signed requests.
    public var maxClockSkew: Int64 = 15 * 60
    /// `https` when the server listens with TLS: absolute URLs Depot writes (the POST answer's Location) use it.
    public var urlScheme = "http"
    /// Called after a bucket's lifecycle or replication configuration changed (or its bucket was
    /// deleted), so the server rebuilds the policies in effect from the stored rule documents.
    public var lifecycleChanged: @Sendable () async throws -> Void = {}
    /// The tiers in effect, which a replication rule's destination must name.
    public var tiers: @Sendable () -> [TierSettings] = { [] }
    /// Called after a bucket's notification configuration changed (or its bucket was deleted), so
    /// the server rebuilds the event routes from the stored notification documents.
    public var notificationChanged: @Sendable () async throws -> Void = {}
    /// The event settings in effect: the sinks a notification configuration's ARNs may name.
    public var eventSettings: @Sendable () -> EventSettings = { EventSettings() }
    /// The configuration in effect as object requests read it (storage classes, lifecycle rules);
    /// the server installs RuntimeConfiguration's, rebuilt with every change.
    public var configurationView: @Sendable () -> S3ConfigurationView = { .empty }

    public init(region: String, domain: String) {
        self.region = region
        self.domain = domain
    }
}

/// Everything a handler needs about one authenticated request.
struct S3Context {
    let request: S3Request
    let account: Account
    let requestId: String
    let auth: VerifiedAuth
    let endpoint: S3Endpoint
    /// The policy and public access block of the bucket the request names (Policy/AccessDecision.swift).
    let bucketAccess: BucketAccess
}

/// The S3 front door: turns requests into engine calls and engine answers into S3 responses.
/// One file per operation group (bucket, put, get, delete, list), as in Garage.
public final class S3Service: Sendable {
    let engine: Engine
    let accounts: any AccountDirectory
    let settings: S3Settings
    let logger: Logger
    private let requestCounter = Atomic<UInt64>(0)
    private let requestIdPrefix: String

    public init(engine: Engine, accounts: any AccountDirectory, settings: S3Settings, logger: Logger) {
        self.engine = engine
        self.accounts = accounts
        self.settings = settings
        self.logger = logger
        requestIdPrefix = String(UInt32.random(in: 0x1000_0000...UInt32.max), radix: 16, uppercase: true)
    }

    func nextRequestId() -> String {
        let n = requestCounter.wrappingAdd(1, ordering: .relaxed).newValue
        let s = String(n, radix: 16, uppercase: true)
        return requestIdPrefix + String(repeating: "0", count: max(0, 8 - s.count)) + s
    }

    /// Answers one request. A client's `Expect: 100-continue` is answered by the server when a
    /// handler first reads `request.body` (DepotServer's ContinueOnFirstRead), so a request that
    /// fails before its body is read gets its final answer instead.
    public func respond(to request: Request) async -> Response {
        let requestId = RequestContext.id ?? nextRequestId()
        let outcome = RequestOutcome.current
        guard
            let s3 = S3Request(
                method: request.method, target: request.head.path ?? "/", authority: request.head.authority,
                headers: request.headers, domain: settings.domain)
        else {
            let error = S3Error.invalidArgument("The request URI is not valid.")
            outcome?.record { $0.errorCode = error.code }
            return errorResponse(error, resource: "/", requestId: requestId, method: request.method)
        }
        let endpoint = S3Endpoint(s3)
        outcome?.record {
            $0.operation = endpoint.operationName
            $0.bucket = s3.bucket
            $0.key = s3.key
        }
        var response: Response
        do {
            response = try await dispatch(endpoint, s3, body: request.body, requestId: requestId)
            response.headers[.amzRequestId] = requestId
        } catch {
            let s3Error = S3Error.from(error)
            outcome?.record { fields in
                fields.errorCode = s3Error.code
                if fields.accessKey == nil { fields.accessKey = s3.claimedAccessKey }
            }
            // The request id comes with every line (the server's logging metadata provider).
            if s3Error.status == .internalServerError {
                logger.error("\(request.method) \(s3.resource) failed: \(error)")
            } else if s3Error.code == "IncompleteBody" {
                // Worth a line at the default level: a client or network cutting uploads short.
                logger.warning("\(request.method) \(s3.resource): \(s3Error.message)")
            } else {
                logger.debug("\(request.method) \(s3.resource): \(s3Error.code)")
            }
            response = errorResponse(s3Error, resource: s3.resource, requestId: requestId, method: request.method)
        }
        // The one place CORS headers join an answer, success or error.
        addCORSHeaders(to: &response, for: s3)
        return response
    }

    /// The one dispatcher: refusals decided by the endpoint table, then authentication, the
    /// endpoint's permission, the header policy, and the handler.
    private func dispatch(
        _ endpoint: S3Endpoint, _ r: S3Request, body: RequestBody, requestId: String
    ) async throws -> Response {
        switch endpoint {
        case .preflight:
            // Preflights carry no signature (browsers send none): decided before authentication.
            return try preflight(r)
        case .postObject
        where r.headers[.authorization] == nil
            && r.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true:
            // Browser form uploads carry their signature in the form, not in the request.
            guard let bucket = r.bucket else { throw S3Error.methodNotAllowed() }
            return try await postObject(r, bucket: bucket, body: body, requestId: requestId)
        default:
            break
        }
        let auth = try authenticate(r)
        let access = try r.bucket.map { try bucketAccess($0) } ?? .none
        if auth.isAnonymous {
            // An unsigned request is answered only where a policy (or an ACL) may admit it: never
            // without a bucket, for a bucket that does not exist (the same 403 whether it exists
            // or not, so names are not revealed) or for an operation no policy can grant (a POST
            // to a bucket that is not a form is none: it would answer 405 only where the bucket exists).
            guard access.record != nil, endpoint != .postObject, PolicyActions.action(for: endpoint) != nil else {
                throw S3Error.accessDenied()
            }
            // S3 serves response-content-type and the other overrides to signed requests only.
            if endpoint == .getObject, r.query.keys.contains(where: { $0.hasPrefix("response-") }) {
                throw S3Error.invalidRequest("Request specific response headers cannot be used for anonymous GET requests.")
            }
        } else {
            RequestOutcome.current?.record {
                $0.accessKey = auth.account.accessKey
                $0.account = auth.account.name
            }
        }
        let c = S3Context(
            request: r, account: auth.account, requestId: requestId, auth: auth, endpoint: endpoint, bucketAccess: access)
        switch endpoint {
        case .notImplemented(let operation, let subresource):
            throw S3Error.notImplemented("\(operation) (?\(subresource))")
        case .unknownSubresource(let name):
            throw S3Error.notImplemented("the query parameter '\(name)' is not a sub-resource Depot knows")
        case .conflictingSubresources(let names):
            throw S3Error.invalidRequest(
                "The sub-resources \(names.map { "?" + $0 }.joined(separator: " and ")) cannot be combined in one request.")
        case .methodNotAllowed, .postObject:
            // A signed POST to a bucket, or one that is not a form, is no operation.
            throw S3Error.methodNotAllowed()
        default:
            break
        }
        if let action = endpoint.requiredAction, let bucket = r.bucket { try authorize(c, action, bucket: bucket, key: r.key) }
        // No object can have a longer key, so every operation on one (a GET or DELETE too, not
        // only the writes the engine refuses) answers what S3 answers.
        if let key = r.key, key.utf8.count > Engine.maximumKeyLength {
            throw EngineError.keyTooLong(maximum: Engine.maximumKeyLength)
        }
        try UnsupportedHeaders.check(r, for: endpoint)
        try checkStorageClassHeader(r, for: endpoint)
        if endpoint == .putObject || endpoint == .copyObject || endpoint == .createMultipartUpload, let bucket = r.bucket {
            try requireObjectLockBucket(c, bucket: bucket)
        }
        guard auth.isAnonymous else { return try await handle(endpoint, c, body: body) }
        return try await hidingMissingKeys(c) { try await handle(endpoint, c, body: body) }
    }

    /// Runs the handler of an authorised endpoint.
    private func handle(_ endpoint: S3Endpoint, _ c: S3Context, body: RequestBody) async throws -> Response {
        let r = c.request
        if endpoint == .listBuckets { return try listBuckets(c) }
        guard let bucket = r.bucket else { throw S3Error.methodNotAllowed() }
        switch endpoint {
        case .createBucket: return try await putBucket(c, bucket: bucket, body: body)
        case .headBucket: return try headBucket(c, bucket: bucket)
        case .deleteBucket: return try await deleteBucket(c, bucket: bucket)
        case .getBucketLocation: return try getBucketLocation(c, bucket: bucket)
        case .listObjects:
            _ = try requireBucket(c, bucket)
            return try listObjectsV1(c, bucket: bucket)
        case .listObjectsV2:
            _ = try requireBucket(c, bucket)
            return try listObjectsV2(c, bucket: bucket)
        case .listObjectVersions:
            _ = try requireBucket(c, bucket)
            return try listObjectVersions(c, bucket: bucket)
        case .listMultipartUploads:
            _ = try requireBucket(c, bucket)
            return try listMultipartUploads(c, bucket: bucket)
        case .getBucketTagging, .putBucketTagging, .deleteBucketTagging:
            return try await bucketTagging(c, bucket: bucket, body: body)
        case .getBucketAcl: return try getAcl(c, bucket: bucket, key: nil)
        case .putBucketAcl: return try await putAcl(c, bucket: bucket, key: nil, body: body)
        case .getBucketOwnershipControls, .putBucketOwnershipControls, .deleteBucketOwnershipControls:
            return try await bucketOwnershipControls(c, bucket: bucket, body: body)
        case .getBucketConfiguration(let configuration): return try getBucketConfiguration(c, bucket: bucket, configuration)
        case .deleteObjects: return try await deleteObjects(c, bucket: bucket, body: body)
        case .getBucketVersioning: return try getBucketVersioning(c, bucket: bucket)
        case .putBucketVersioning: return try await putBucketVersioning(c, bucket: bucket, body: body)
        case .getObjectLockConfiguration: return try getObjectLockConfiguration(c, bucket: bucket)
        case .putObjectLockConfiguration: return try await putObjectLockConfiguration(c, bucket: bucket, body: body)
        case .getBucketPolicy, .putBucketPolicy, .deleteBucketPolicy, .getBucketPolicyStatus, .getPublicAccessBlock,
            .putPublicAccessBlock, .deletePublicAccessBlock:
            return try await bucketPolicyOperation(endpoint, c, bucket: bucket, body: body)
        case .getBucketCors: return try getBucketCors(c, bucket: bucket)
        case .putBucketCors: return try await putBucketCors(c, bucket: bucket, body: body)
        case .deleteBucketCors: return try await deleteBucketCors(c, bucket: bucket)
        case .getBucketLifecycle: return try getBucketLifecycle(c, bucket: bucket)
        case .putBucketLifecycle: return try await putBucketLifecycle(c, bucket: bucket, body: body)
        case .deleteBucketLifecycle: return try await deleteBucketLifecycle(c, bucket: bucket)
        case .getBucketReplication: return try getBucketReplication(c, bucket: bucket)
        case .putBucketReplication: return try await putBucketReplication(c, bucket: bucket, body: body)
        case .deleteBucketReplication: return try await deleteBucketReplication(c, bucket: bucket)
        case .getBucketNotification: return try getBucketNotification(c, bucket: bucket)
        case .putBucketNotification: return try await putBucketNotification(c, bucket: bucket, body: body)
        case .getBucketEncryption: return try getBucketEncryption(c, bucket: bucket)
        case .putBucketEncryption: return try await putBucketEncryption(c, bucket: bucket, body: body)
        case .deleteBucketEncryption: return try await deleteBucketEncryption(c, bucket: bucket)
        default: break
        }
        guard let key = r.key else { throw S3Error.methodNotAllowed() }
        switch endpoint {
        case .putObject: return try await putObject(c, bucket: bucket, key: key, body: body)
        case .copyObject:
            return try await copyObject(c, bucket: bucket, key: key, source: r.header("x-amz-copy-source") ?? "")
        case .getObject, .headObject: return try getObject(c, bucket: bucket, key: key)
        case .deleteObject: return try await deleteObject(c, bucket: bucket, key: key)
        case .createMultipartUpload: return try await createMultipartUpload(c, bucket: bucket, key: key)
        case .uploadPart, .uploadPartCopy:
            return try await uploadPart(c, bucket: bucket, key: key, body: body)
        case .completeMultipartUpload: return try await completeMultipartUpload(c, bucket: bucket, key: key, body: body)
        case .abortMultipartUpload: return try await abortMultipartUpload(c, bucket: bucket, key: key)
        case .listParts: return try listParts(c, bucket: bucket, key: key)
        case .getObjectTagging, .putObjectTagging, .deleteObjectTagging:
            return try await objectTagging(c, bucket: bucket, key: key, body: body)
        case .getObjectAcl: return try getAcl(c, bucket: bucket, key: key)
        case .putObjectAcl: return try await putAcl(c, bucket: bucket, key: key, body: body)
        case .getObjectAttributes: return try getObjectAttributes(c, bucket: bucket, key: key)
        case .getObjectRetention: return try getObjectRetention(c, bucket: bucket, key: key)
        case .putObjectRetention: return try await putObjectRetention(c, bucket: bucket, key: key, body: body)
        case .getObjectLegalHold: return try getObjectLegalHold(c, bucket: bucket, key: key)
        case .putObjectLegalHold: return try await putObjectLegalHold(c, bucket: bucket, key: key, body: body)
        default: throw S3Error.methodNotAllowed()
        }
    }

    /// Throws AccessDenied unless the request may do `action` here: the account's `allow` list
    /// and the bucket's policy, by THE ACCESS RULE (Policy/AccessDecision.swift). `policyAction`:
    /// the policy's name for it when it is not the endpoint's own (a copy's source is read with
    /// s3:GetObject).
    func authorize(_ c: S3Context, _ action: Action, bucket: String, key: String? = nil, policyAction: String? = nil) throws {
        try requireAccess(
            c, action: policyAction ?? c.policyAction, bucket: bucket, key: key,
            allowListAllows: c.account.allows(action, bucket: bucket, key: key))
    }

    /// Throws NoSuchBucket unless the bucket exists.
    func requireBucket(_ bucket: String) throws {
        guard try engine.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
    }

    /// The record of `bucket`, or NoSuchBucket. The request's own bucket was read once, before
    /// its authorization (`S3Context.bucketAccess`), and that record serves the whole request:
    /// each `engine.bucket` is an LMDB read and decode, and in cluster mode a PostgreSQL round
    /// trip (a GET read it twice and a PUT three times before, RESULTS-NOTES "Cluster mode's cost").
    /// Another bucket (a copy's source) is read now.
    func requireBucket(_ c: S3Context, _ bucket: String) throws -> BucketRecord {
        let record = try bucket == c.request.bucket ? c.bucketAccess.record : engine.bucket(bucket)
        guard let record else { throw S3Error.noSuchBucket(bucket) }
        return record
    }

    // MARK: Responses

    func xmlResponse(_ xml: XMLWriter, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        let buffer = ByteBuffer(string: xml.text)
        headers[.contentLength] = String(buffer.readableBytes)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: buffer))
    }

    func emptyResponse(_ status: HTTPResponse.Status = .ok, headers: HTTPFields = [:]) -> Response {
        var headers = headers
        if headers[.contentLength] == nil { headers[.contentLength] = "0" }
        return Response(status: status, headers: headers, body: ResponseBody())
    }

    func errorResponse(_ error: S3Error, resource: String, requestId: String, method: HTTPRequest.Method) -> Response {
        var headers = HTTPFields()
        headers[.amzRequestId] = requestId
        if error.status == .serviceUnavailable || error.code == "SlowDown" { headers[.retryAfter] = "1" }
        for (name, value) in error.headers { if let field = HTTPField.Name(name) { headers[field] = value } }
        // HEAD errors carry no body (clients read only the status).
        if method == .head {
            headers[.contentLength] = "0"
            return Response(status: error.status, headers: headers, body: ResponseBody())
        }
        var xml = XMLWriter()
        xml.group("Error") { x in
            x.element("Code", error.code)
            x.element("Message", error.message)
            for (name, value) in error.details { x.element(name, value) }
            x.element("Resource", resource)
            x.element("RequestId", requestId)
        }
        var response = xmlResponse(xml, status: error.status)
        // The request id, Retry-After and the error's own headers, as on a HEAD.
        for field in headers { response.headers[field.name] = field.value }
        return response
    }
}
