/// A request body that arrived slower than `server.minTransferRate` (averaged over
/// `server.transferRateWindow`, counting only the time the server was waiting for it): the
/// server's connection guard fails the body stream with this, and every front door answers it as
/// the client's fault (S3's 400 `RequestTimeout`); nothing is stored.
public struct TransferTooSlow: Error, Sendable, CustomStringConvertible {
    public let bytes: Int
    public let seconds: Double
    public let minimumRate: Int

    public init(bytes: Int, seconds: Double, minimumRate: Int) {
        self.bytes = bytes
        self.seconds = seconds
        self.minimumRate = minimumRate
    }

    public var description: String {
        let rounded = (seconds * 10).rounded() / 10
        return "the request body came slower than \(minimumRate) bytes/s: \(bytes) bytes in \(rounded) s; nothing was stored"
    }
}
