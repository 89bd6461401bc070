import Glibc

/// A mutex with a condition variable whose waits always have a deadline (CLOCK_MONOTONIC):
/// appends waiting for room, syncs waiting for uploads, readers waiting for a block another
/// reader is fetching. The store's callers are synchronous (the `ChunkStore` protocol), so they
/// wait on threads, never on the store's own event loop.
final class Monitor: @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

    init() {
        pthread_mutex_init(mutex, nil)
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        pthread_cond_init(condition, &attributes)
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    func withLock<R>(_ body: () throws -> R) rethrows -> R {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body()
    }

    /// With the lock held: waits until `done()` holds or `deadline` passes; returns `done()`.
    func waitLocked(until deadline: MonotonicDeadline, _ done: () -> Bool) -> Bool {
        while !done() {
            guard !deadline.hasPassed else { return false }
            var until = deadline.timespec
            _ = pthread_cond_timedwait(condition, mutex, &until)
        }
        return true
    }

    /// Wakes every waiter (they recheck their own condition).
    func broadcast() { pthread_cond_broadcast(condition) }
}

/// A point on the monotonic clock.
struct MonotonicDeadline: Sendable {
    let nanoseconds: UInt64

    static func now() -> UInt64 {
        var ts = Glibc.timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
    }

    init(secondsFromNow seconds: Double) {
        nanoseconds = Self.now() + UInt64(max(0, seconds) * 1e9)
    }

    var hasPassed: Bool { Self.now() >= nanoseconds }
    var secondsLeft: Double { hasPassed ? 0 : Double(nanoseconds - Self.now()) / 1e9 }

    var timespec: Glibc.timespec {
        Glibc.timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }
}
