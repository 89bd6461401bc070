import Synchronization

/// What the S3 front door decided about one request, for the server's access log: the
/// operation (AWS's name, from the endpoint table), the S3 error code of a failure, and the
/// access key that signed it (also when the signature was wrong), so an admin can tell a wrong
/// secret (SignatureDoesNotMatch) from a denied prefix (AccessDenied). The server makes one per
/// request, binds it to `S3RequestOutcome.current` around the front door, and reads it back.
public final class S3RequestOutcome: Sendable {
    public struct Fields: Sendable {
        public var operation: String?
        public var errorCode: String?
        public var accessKey: String?
    }

    @TaskLocal public static var current: S3RequestOutcome?

    private let state = Mutex(Fields())

    public init() {}

    public var fields: Fields { state.withLock { $0 } }

    func record(_ update: (inout Fields) -> Void) { state.withLock { update(&$0) } }
}

extension S3Request {
    /// The access key the request claims to be signed with, whatever the signature's worth:
    /// for the access log of a request that failed authentication. SigV4 (header or presigned
    /// query) and SigV2 (`AWS key:signature`, `AWSAccessKeyId=`).
    var claimedAccessKey: String? {
        if let authorization = headers[.authorization] {
            if let credential = authorization.range(of: "Credential=") {
                return String(authorization[credential.upperBound...].prefix { $0 != "/" && $0 != "," && $0 != " " })
            }
            if authorization.hasPrefix("AWS "), let colon = authorization.lastIndex(of: ":") {
                return String(authorization[authorization.index(authorization.startIndex, offsetBy: 4)..<colon])
                    .trimmedSpaces()
            }
            return nil
        }
        if let credential = query.first(where: { $0.key.lowercased() == "x-amz-credential" })?.value {
            return String(credential.prefix { $0 != "/" })
        }
        return query["AWSAccessKeyId"]
    }
}
