import Synchronization

/// The request a task is working for. The server sets it around each request; S3 answers
/// with it as `x-amz-request-id`, and every log line written while serving the request carries it
/// (a swift-log metadata provider reads it), so one id ties a client's error to the server's log.
public enum RequestContext {
    @TaskLocal public static var id: String?
    /// The client's IP address (no port), set by the server around each request: what bucket
    /// policies test as `aws:SourceIp`.
    @TaskLocal public static var clientAddress: String?

    /// A new id: 16 upper-case hex digits, as S3's look. A counter from a random start, mixed
    /// by SplitMix64's finalizer (a bijection, so no two ids of one process are equal, and they
    /// do not read as a sequence): `UInt64.random` asked the kernel (`getrandom`) on every
    /// request, and the old formatting made three strings; together 0.65% of a 4 KiB GET's CPU.
    public static func makeId() -> String {
        var z = nextId.wrappingAdd(1, ordering: .relaxed).oldValue &* 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return format16(z ^ (z >> 31))
    }

    private static let nextId = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    private static func format16(_ value: UInt64) -> String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            let digits: StaticString = "0123456789ABCDEF"
            for i in 0..<16 {
                buffer[i] = digits.utf8Start[Int((value >> UInt64(60 - 4 * i)) & 0xF)]
            }
            return 16
        }
    }
}
