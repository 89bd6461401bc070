import Synchronization

/// Paces the bytes sent to one tier so all its copies together stay under `bytesPerSecond`.
///
/// A GCRA-style schedule (a "theoretical arrival time" moved forward by each piece's cost)
/// instead of a token bucket refilled by a timer: no background task, exact for pieces larger
/// than the burst, and fair across concurrent copies because each reserves its slot up front.
public final class BandwidthLimiter: Sendable {
    public let bytesPerSecond: Int
    /// How far ahead of the steady rate a sender may run: a quarter second of traffic, so short
    /// pauses do not turn into bursts that would swamp a site's uplink.
    private let burst: Duration
    private let theoreticalArrival: Mutex<ContinuousClock.Instant>

    /// The limiter of the tier a copy is being sent to. The tiering service sets it around each
    /// task, and `ObjectPieces` (and the filesystem tier's loop) pick it up, so tier clients need
    /// no parameter for it.
    @TaskLocal public static var current: BandwidthLimiter?

    public init(bytesPerSecond: Int) {
        self.bytesPerSecond = max(1, bytesPerSecond)
        burst = .milliseconds(250)
        theoreticalArrival = Mutex(.now)
    }

    /// Waits until `bytes` more may be sent.
    public func take(_ bytes: Int) async throws {
        let cost = Duration.nanoseconds(Int64((Double(bytes) / Double(bytesPerSecond)) * 1e9))
        let now = ContinuousClock.now
        let wait = theoreticalArrival.withLock { arrival -> Duration in
            arrival = max(arrival, now) + cost
            return arrival - burst - now
        }
        if wait > .zero { try await Task.sleep(for: wait) }
    }
}
