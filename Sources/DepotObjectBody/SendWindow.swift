import NIOCore

/// Holds a response stream back while `limit` of its buffers are still held by the channel.
///
/// The response writer suspends only once the event loop has seen that the socket is full, and
/// with 32 streams on two busy event loops each stream ran several MiB ahead of its socket: GETs
/// of 32 MiB objects at concurrency 32 peaked at 400-630 MiB. The writer does not say when a
/// write has left the process, but a buffer's storage is freed exactly then, so the window watches
/// each sent buffer's storage through a weak reference and waits while too many are alive.
/// Four 1 MiB buffers keep a stream's socket fed (measured: 32 MiB x 8 GETs ran 25% faster than
/// with two) and 32 streams under 150 MiB.
struct SendWindow {
    var limit = 4
    private var sent: [WeakStorage] = []

    /// Returns once fewer than `limit` sent buffers are still held, sleeping a little longer each
    /// time the socket is still behind (from 0.25 ms up to 4 ms).
    mutating func waitForRoom() async throws {
        var pause = Duration.microseconds(250)
        while true {
            sent.removeAll { $0.storage == nil }
            if sent.count < limit { return }
            try await Task.sleep(for: pause)
            pause = min(pause * 2, .milliseconds(4))
        }
    }

    /// Starts watching a buffer about to be written; the caller must hold no other copy of it.
    mutating func track(_ buffer: ByteBuffer) {
        let watcher = WeakStorage()
        buffer.withUnsafeReadableBytesWithStorageManagement { _, storage in
            watcher.storage = storage.takeUnretainedValue()
        }
        sent.append(watcher)
    }
}

private final class WeakStorage {
    weak var storage: AnyObject?
}
