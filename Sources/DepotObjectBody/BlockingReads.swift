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

    /// Whether a read of `count` bytes should leave this thread (`elsewhere`).
    @inline(__always)
    static func offloads(_ count: Int) -> Bool {
        count >= offloadedPieceBytes && offloading.load(ordering: .relaxed)
    }

    /// Runs `read` on a dispatch thread, where it may block, and waits for it without holding
    /// the caller's thread.
    static func elsewhere<T: Sendable>(_ read: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            queue.async { continuation.resume(with: Result { try read() }) }
        }
    }
}
