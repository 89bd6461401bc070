import Foundation

/// A thread of its own for the blocking calls of a broker's C library: connecting, writing, and waiting
/// for the broker's acknowledgements.
///
/// Why not the cooperative pool: Swift concurrency runs on one thread per core (two on the machines Depot
/// targets), and a publish that waits seconds for a broker that is down would stall every upload on the
/// server. Why one thread per client: jobs run one at a time and in order, so each C handle is only ever
/// touched by one thread (neither rabbitmq-c connections nor our delivery bookkeeping are thread-safe),
/// and batches reach the broker in the order they were handed in.
final class BrokerThread: @unchecked Sendable {
    /// Thrown by `run` once `stop()` was called.
    struct Stopped: Error {}

    // `condition` guards `jobs` and `stopping`; the thread reads them, callers append.
    private let condition = NSCondition()
    private var jobs: [() -> Void] = []
    private var stopping = false

    init(name: String) {
        // The thread holds `self` until `stop()`: the owner must call it (shutdown or deinit).
        let thread = Thread { [self] in self.serve() }
        thread.name = name
        thread.start()
    }

    /// Runs `body` on the thread and returns its result. The calling task suspends meanwhile; it does
    /// not block a cooperative thread. Cancelling the task does not interrupt `body`, whose own timeouts
    /// bound it.
    func run<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, Error>) in
            let accepted = enqueue { continuation.resume(with: Result { try body() }) }
            if !accepted { continuation.resume(throwing: Stopped()) }
        }
    }

    /// Queues `job` without waiting for it (used to release C handles from a `deinit`).
    /// Returns false when the thread is stopping and will not run it.
    @discardableResult
    func enqueue(_ job: @escaping () -> Void) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        guard !stopping else { return false }
        jobs.append(job)
        condition.signal()
        return true
    }

    /// Lets the thread finish the jobs already queued, then end. Later `run` calls throw `Stopped`.
    func stop() {
        condition.lock()
        stopping = true
        condition.signal()
        condition.unlock()
    }

    private func serve() {
        while true {
            condition.lock()
            while jobs.isEmpty && !stopping { condition.wait() }
            if jobs.isEmpty {
                condition.unlock()
                return
            }
            let job = jobs.removeFirst()
            condition.unlock()
            job()
        }
    }
}
