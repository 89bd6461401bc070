import Dispatch
import Synchronization

/// Where a response body's disk reads run.
///
/// When Swift concurrency's tasks run on NIO's event loops (`depot serve` installs that, see
/// ConcurrencyOnEventLoops), a `pread` of a chunk that is not in the page cache would stop every
/// connection of that event loop until the disk answers. Pieces of at least `offloadedPieceBytes`
/// are then read on a dispatch thread instead; smaller ones (a 4 KiB GET) stay on the loop,
/// where the hop would cost more than the read.
public enum BlockingReads {
    private static let offloading = Atomic<Bool>(false)

    /// Set once at startup, before any request.
    public static func offloadLargeReads(_ on: Bool) { offloading.store(on, ordering: .relaxed) }

    static let offloadedPieceBytes = 64 << 10
    private static let queue = DispatchQueue(label: "depot.blocking-reads", attributes: .concurrent)

    /// Runs `read` (which reads `count` bytes from the segments) where it may block.
    static func run<T: Sendable>(count: Int, _ read: @escaping @Sendable () throws -> T) async throws -> T {
        guard count >= offloadedPieceBytes, offloading.load(ordering: .relaxed) else { return try read() }
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.async { continuation.resume(with: Result { try read() }) }
        }
    }
}
