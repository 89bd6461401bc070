import DepotConfig
import DepotEngine
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

    /// Answers one request. `sendContinue` writes `100 Continue` when the client asked for it;
    /// it is called only once authentication and the bucket check have passed, right before the
    /// body is read, so a request that is going to fail gets its final answer instead.
    public func respond(to request: Request, sendContinue: () async throws -> Void) async -> Response {
        let requestId = RequestContext.id ?? nextRequestId()
        guard
            let s3 = S3Request(
                method: request.method, target: request.head.path ?? "/", authority: request.head.authority,
                headers: request.headers, domain: settings.domain)
        else {
            return errorResponse(
                S3Error.invalidArgument("The request URI is not valid."), resource: "/", requestId: requestId,
                method: request.method)
        }
        do {
            // Browser form uploads carry their signature in the form, not in the request.
            if s3.method == .post, let bucket = s3.bucket, s3.key == nil, s3.query.isEmpty,
                s3.headers[.authorization] == nil, s3.headers[.contentType]?.lowercased().hasPrefix("multipart/form-data") == true
            {
                return try await postObject(s3, bucket: bucket, body: request.body, requestId: requestId)
            }
            let auth = try authenticate(s3)
            let context = S3Context(request: s3, account: auth.account, requestId: requestId, auth: auth)
            var response = try await route(context, body: request.body, sendContinue: sendContinue)
            response.headers[.init("x-amz-request-id")!] = requestId
            return response
        } catch {
            let s3Error = S3Error.from(error)
            // The request id comes with every line (the server's logging metadata provider).
            if s3Error.status == .internalServerError {
                logger.error("\(request.method) \(s3.resource) failed: \(error)")
            } else {
                logger.debug("\(request.method) \(s3.resource): \(s3Error.code)")
            }
            return errorResponse(s3Error, resource: s3.resource, requestId: requestId, method: request.method)
        }
    }

    private func route(_ c: S3Context, body: RequestBody, sendContinue: () async throws -> Void) async throws -> Response {
        let r = c.request
        guard let bucket = r.bucket else {
            guard r.method == .get else { throw S3Error.methodNotAllowed() }
            return try listBuckets(c)
        }
        let q = r.query
        guard let key = r.key else {
            switch r.method {
            case .put where q["tagging"] != nil, .delete where q["tagging"] != nil, .get where q["tagging"] != nil:
                return try await bucketTagging(c, bucket: bucket, body: body)
            case .put: return try await putBucket(c, bucket: bucket, body: body, sendContinue: sendContinue)
            case .head: return try headBucket(c, bucket: bucket)
            case .delete: return try await deleteBucket(c, bucket: bucket)
            case .get where q["uploads"] != nil:
                try authorize(c, .list, bucket: bucket)
                try requireBucket(bucket)
                return try listMultipartUploads(c, bucket: bucket)
            case .get: return try getBucket(c, bucket: bucket)
            case .post where q["delete"] != nil: return try await deleteObjects(c, bucket: bucket, body: body)
            default: throw S3Error.methodNotAllowed()
            }
        }
        if q["tagging"] != nil, [.get, .put, .delete].contains(r.method) {
            return try await objectTagging(c, bucket: bucket, key: key, body: body)
        }
        switch r.method {
        case .put where q["uploadId"] != nil:
            return try await uploadPart(c, bucket: bucket, key: key, body: body, sendContinue: sendContinue)
        case .put:
            if let source = r.header("x-amz-copy-source") {
                return try await copyObject(c, bucket: bucket, key: key, source: source)
            }
            return try await putObject(c, bucket: bucket, key: key, body: body, sendContinue: sendContinue)
        case .get where q["uploadId"] != nil: return try listParts(c, bucket: bucket, key: key)
        case .get, .head: return try getObject(c, bucket: bucket, key: key)
        case .delete where q["uploadId"] != nil: return try await abortMultipartUpload(c, bucket: bucket, key: key)
        case .delete: return try await deleteObject(c, bucket: bucket, key: key)
        case .post where q["uploads"] != nil: return try await createMultipartUpload(c, bucket: bucket, key: key)
        case .post where q["uploadId"] != nil: return try await completeMultipartUpload(c, bucket: bucket, key: key, body: body)
        default: throw S3Error.methodNotAllowed()
        }
    }

    /// Throws AccessDenied unless the account may do `action` here.
    func authorize(_ c: S3Context, _ action: Action, bucket: String, key: String? = nil) throws {
        guard c.account.allows(action, bucket: bucket, key: key) else { throw S3Error.accessDenied() }
    }

    /// Throws NoSuchBucket unless the bucket exists.
    func requireBucket(_ bucket: String) throws {
        guard try engine.bucket(bucket) != nil else { throw S3Error.noSuchBucket(bucket) }
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
        headers[.init("x-amz-request-id")!] = requestId
        if error.status == .serviceUnavailable || error.code == "SlowDown" { headers[.retryAfter] = "1" }
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
        response.headers[.init("x-amz-request-id")!] = requestId
        return response
    }
}
