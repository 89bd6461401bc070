import DepotEngine
import DepotObjectBody
import HTTPTypes

/// An S3 error: the code clients switch on, its HTTP status, and a message for people.
public struct S3Error: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var status: HTTPResponse.Status
    public var message: String
    /// Extra elements some codes carry, e.g. `Region` for AuthorizationHeaderMalformed.
    public var details: [(String, String)] = []
    /// Response headers the error carries, e.g. `x-amz-delete-marker` on a GET of a deleted key.
    public var headers: [(String, String)] = []

    public init(_ code: String, _ status: HTTPResponse.Status, _ message: String, details: [(String, String)] = []) {
        self.code = code
        self.status = status
        self.message = message
        self.details = details
    }

    public var description: String { "\(code): \(message)" }

    public static func accessDenied(_ message: String = "Access Denied") -> S3Error {
        S3Error("AccessDenied", .forbidden, message)
    }
    public static func signatureDoesNotMatch() -> S3Error {
        S3Error(
            "SignatureDoesNotMatch", .forbidden,
            "The request signature we calculated does not match the signature you provided. Check your key and signing method.")
    }
    public static func invalidAccessKeyId() -> S3Error {
        S3Error("InvalidAccessKeyId", .forbidden, "The AWS Access Key Id you provided does not exist in our records.")
    }
    public static func noSuchBucket(_ bucket: String) -> S3Error {
        S3Error("NoSuchBucket", .notFound, "The specified bucket does not exist", details: [("BucketName", bucket)])
    }
    public static func noSuchKey(_ key: String) -> S3Error {
        S3Error("NoSuchKey", .notFound, "The specified key does not exist.", details: [("Key", key)])
    }
    public static func invalidArgument(_ message: String) -> S3Error { S3Error("InvalidArgument", .badRequest, message) }
    public static func invalidRequest(_ message: String) -> S3Error { S3Error("InvalidRequest", .badRequest, message) }
    public static func malformedXML() -> S3Error {
        S3Error(
            "MalformedXML", .badRequest,
            "The XML you provided was not well-formed or did not validate against our published schema.")
    }
    public static func incompleteBody() -> S3Error {
        S3Error(
            "IncompleteBody", .badRequest, "You did not provide the number of bytes specified by the Content-Length HTTP header.")
    }
    /// A body cut off by the client: the message says how far it got (also for the log).
    public static func incompleteBody(received: UInt64, declared: UInt64) -> S3Error {
        S3Error(
            "IncompleteBody", .badRequest,
            "You did not provide the number of bytes specified by the Content-Length HTTP header: "
                + CutOffBody.describe(received: received, declared: declared))
    }
    /// A body slower than `server.minTransferRate` (TransferTooSlow): AWS's answer to a stalled upload.
    public static func requestTimeout() -> S3Error {
        S3Error(
            "RequestTimeout", .badRequest,
            "Your socket connection to the server was not read from or written to within the timeout period.")
    }
    public static func contentSHA256Mismatch() -> S3Error {
        S3Error(
            "XAmzContentSHA256Mismatch", .badRequest,
            "The provided 'x-amz-content-sha256' header does not match what was computed.")
    }
    public static func badDigest(_ what: String = "Content-MD5") -> S3Error {
        S3Error("BadDigest", .badRequest, "The \(what) you specified did not match what we received.")
    }
    public static func internalError(_ message: String = "We encountered an internal error. Please try again.") -> S3Error {
        S3Error("InternalError", .internalServerError, message)
    }
    public static func notImplemented(_ what: String) -> S3Error {
        S3Error(
            "NotImplemented", .notImplemented,
            "A header or query you provided implies functionality that is not implemented: \(what)")
    }
    public static func methodNotAllowed() -> S3Error {
        S3Error("MethodNotAllowed", .methodNotAllowed, "The specified method is not allowed against this resource.")
    }
    public static func preconditionFailed() -> S3Error {
        S3Error("PreconditionFailed", .preconditionFailed, "At least one of the pre-conditions you specified did not hold")
    }
    public static func invalidRange(size: UInt64) -> S3Error {
        S3Error(
            "InvalidRange", .rangeNotSatisfiable, "The requested range is not satisfiable",
            details: [("ActualObjectSize", String(size))])
    }

    /// Maps engine failures to the S3 codes clients expect.
    public static func from(_ error: Error) -> S3Error {
        if let e = error as? S3Error { return e }
        // A body the client stopped sending early, read by a handler that does not count it.
        if CutOffBody.isCutOff(error) { return .incompleteBody() }
        if error is TransferTooSlow { return .requestTimeout() }
        if let refusal = error as? CustomerKeyEncryption.Refusal { return CustomerKeyHeaders.error(refusal) }
        guard let e = (error as? EngineError) ?? EngineError.indexFailure(error) else { return .internalError() }
        switch e {
        case .noSuchBucket(let b): return .noSuchBucket(b)
        case .noSuchKey(let k): return .noSuchKey(k)
        case .noSuchVersion(let k, let v):
            return S3Error(
                "NoSuchVersion", .notFound, "The specified version does not exist.",
                details: [("Key", k), ("VersionId", v)])
        case .deleteMarkerSource:
            return S3Error(
                "InvalidRequest", .badRequest,
                "The source of a copy request may not specifically refer to a delete marker by version id.")
        case .deleteMarkerTarget:
            return S3Error(
                "MethodNotAllowed", .methodNotAllowed, "The specified method is not allowed against this resource.",
                details: [("ResourceType", "DeleteMarker")])
        case .bucketAlreadyExists(let b):
            return S3Error(
                "BucketAlreadyExists", .conflict,
                "The requested bucket name is not available. Select a different name and try again.",
                details: [("BucketName", b)])
        case .bucketAlreadyOwnedByYou(let b):
            return S3Error(
                "BucketAlreadyOwnedByYou", .conflict,
                "Your previous request to create the named bucket succeeded and you already own it.",
                details: [("BucketName", b)])
        case .bucketNotEmpty(let b):
            return S3Error(
                "BucketNotEmpty", .conflict, "The bucket you tried to delete is not empty", details: [("BucketName", b)])
        case .invalidBucketName(let b):
            let why = Engine.bucketNameProblem(b).map { ": \($0)." } ?? "."
            return S3Error(
                "InvalidBucketName", .badRequest, "The specified bucket is not valid\(why)", details: [("BucketName", b)])
        case .keyTooLong(let max):
            return S3Error(
                "KeyTooLongError", .badRequest, "Your key is too long: keys may be at most \(max) bytes (UTF-8).")
        case .preconditionFailed: return .preconditionFailed()
        case .noSuchUpload:
            return S3Error(
                "NoSuchUpload", .notFound,
                "The specified multipart upload does not exist. The upload ID may be invalid, or the upload may have been aborted or completed."
            )
        case .invalidPart(let detail):
            return S3Error(
                "InvalidPart", .badRequest,
                "One or more of the specified parts could not be found. The part may not have been uploaded, or the specified entity tag may not match the part's entity tag. \(detail)"
            )
        case .invalidPartOrder:
            return S3Error(
                "InvalidPartOrder", .badRequest,
                "The list of parts was not in ascending order. Parts must be ordered by part number.")
        case .invalidObjectState(let key):
            return S3Error(
                "InvalidObjectState", .forbidden,
                "The operation is not valid for the object's storage state: \(key) is held on a tier only.")
        case .invalidBucketState(let detail): return S3Error("InvalidBucketState", .conflict, detail)
        // AWS answers 403 AccessDenied to a delete or retention change Object Lock forbids.
        case .objectLocked(let detail): return S3Error("AccessDenied", .forbidden, detail)
        case .invalidRequest(let detail): return .invalidRequest(detail)
        case .entityTooSmall:
            return S3Error("EntityTooSmall", .badRequest, "Your proposed upload is smaller than the minimum allowed object size.")
        case .noSpace:
            return S3Error(
                "InsufficientStorage", .init(code: 507), "The data directory's device is full; the object was not stored.")
        case .quotaExceeded(let detail):
            // AWS has no per-account storage quota; MinIO's bucket quota answers
            // XMinioAdminBucketQuotaExceeded. Depot says it in AWS's style: 403, `QuotaExceeded`.
            return S3Error("QuotaExceeded", .forbidden, "Your account's storage quota would be exceeded: \(detail).")
        case .outboxFull:
            return S3Error("SlowDown", .serviceUnavailable, "Please reduce your request rate: event delivery is behind.")
        case .shuttingDown:
            return S3Error("ServiceUnavailable", .serviceUnavailable, "The server is shutting down; please retry.")
        case .chunkStoreUnavailable:
            return S3Error("SlowDown", .serviceUnavailable, "Please reduce your request rate: the chunk store cannot be reached.")
        case .indexUnavailable:
            return S3Error("SlowDown", .serviceUnavailable, "Please reduce your request rate: the cluster index is busy or cannot be reached.")
        case .dataDirectoryInUse, .corrupt, .io: return .internalError(e.description)
        }
    }
}
