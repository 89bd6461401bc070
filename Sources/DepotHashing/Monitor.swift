#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// A mutex with condition variables whose waits always have a deadline: for the hashing service's
/// threads (its worker and the writers it holds back), which block outside Swift concurrency.
final class Monitor: @unchecked Sendable {
    fileprivate let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)

    init() { pthread_mutex_init(mutex, nil) }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    func lock() { pthread_mutex_lock(mutex) }
    func unlock() { pthread_mutex_unlock(mutex) }

    /// A condition waited on with this monitor's mutex held.
    final class Condition: @unchecked Sendable {
        private let condition = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)

        init() {
            #if os(Linux)
                // Deadlines on the monotonic clock, so a wall-clock step neither shortens nor stretches a wait.
                var attributes = pthread_condattr_t()
                pthread_condattr_init(&attributes)
                pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
                pthread_cond_init(condition, &attributes)
                pthread_condattr_destroy(&attributes)
            #else
                pthread_cond_init(condition, nil)
            #endif
        }

        deinit {
            pthread_cond_destroy(condition)
            condition.deallocate()
        }

        func signal() { pthread_cond_signal(condition) }
        func broadcast() { pthread_cond_broadcast(condition) }

        /// Waits at most `milliseconds`; false when the time ran out. Callers re-check their
        /// condition in a loop either way (wakeups may be spurious).
        @discardableResult
        func wait(_ monitor: Monitor, milliseconds: Int) -> Bool {
            var deadline = timespec()
            #if os(Linux)
                clock_gettime(CLOCK_MONOTONIC, &deadline)
            #else
                clock_gettime(CLOCK_REALTIME, &deadline)
            #endif
            let nanoseconds = Int(deadline.tv_nsec) + (milliseconds % 1000) * 1_000_000
            deadline.tv_sec += milliseconds / 1000 + nanoseconds / 1_000_000_000
            deadline.tv_nsec = .init(nanoseconds % 1_000_000_000)
            return pthread_cond_timedwait(condition, monitor.mutex, &deadline) == 0
        }
    }
}
