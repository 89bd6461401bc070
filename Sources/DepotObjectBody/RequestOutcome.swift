import Synchronization

/// What a front door (S3, Vault, admin) decided about one request, for the server's access log
/// and metrics: the operation (from that front door's endpoint table), the error code of a
/// failure, and the access key the request presented (also when its secret or signature was
/// wrong), so an admin can tell a wrong secret from a denied prefix. The server makes one per
/// request, binds it to `RequestOutcome.current` around the front door, and reads it back.
public final class RequestOutcome: Sendable {
    public struct Fields: Sendable {
        public var operation: String?
        public var errorCode: String?
        public var accessKey: String?
        /// The name of the account the access key authenticated as (nil until it did).
        public var account: String?
        /// The bucket and object key the request addressed, as the front door parsed them.
        public var bucket: String?
        public var key: String?
    }

    @TaskLocal public static var current: RequestOutcome?

    private let state = Mutex(Fields())

    public init() {}

    public var fields: Fields { state.withLock { $0 } }

    public func record(_ update: (inout Fields) -> Void) { state.withLock { update(&$0) } }

    /// The error code of a failure whose front door has no code of its own for it (Vault's JSON
    /// errors, the admin API's): the status's reason phrase without spaces (`Method Not Allowed`
    /// → `MethodNotAllowed`), or `Status507` for a status without one.
    public static func errorCode(status: Int, reasonPhrase: String) -> String {
        let words = reasonPhrase.filter { $0.isLetter || $0.isNumber }
        return words.isEmpty ? "Status\(status)" : words
    }
}
