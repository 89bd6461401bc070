/// The request a task is working for. The server sets it around each request; S3 answers
/// with it as `x-amz-request-id`, and every log line written while serving the request carries it
/// (a swift-log metadata provider reads it), so one id ties a client's error to the server's log.
public enum RequestContext {
    @TaskLocal public static var id: String?
    /// The client's IP address (no port), set by the server around each request: what bucket
    /// policies test as `aws:SourceIp`.
    @TaskLocal public static var clientAddress: String?

    /// A new id: 16 upper-case hex digits, as S3's look.
    public static func makeId() -> String {
        String(format16(UInt64.random(in: 0...UInt64.max)))
    }

    private static func format16(_ value: UInt64) -> String {
        let hex = String(value, radix: 16, uppercase: true)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }
}
