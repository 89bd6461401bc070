import Synchronization

/// Runs `work` on a task of its own and waits for it, but stops waiting as soon as the caller is
/// cancelled (throwing `CancellationError`), whether or not the work notices.
///
/// The broker sinks' clients (librdkafka, librabbitmq) block a thread of their own until their
/// timeouts, which a task's cancellation does not reach; without this, a stop with a Kafka broker
/// down would wait out the delivery timeout, past the bounded stop. The abandoned attempt may
/// still deliver; its events stay pending (the cursor did not move), so they are delivered again at
/// the next start: at least once, as always.
func untilCancelled<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) async throws -> T {
    let waiter = CancellableWaiter<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { continuation in
            waiter.wait(continuation)
            let task = Task { waiter.finish(await Result.of(work)) }
            waiter.attach(task)
        }
    } onCancel: {
        waiter.finish(.failure(CancellationError()))
    }
}

/// The one continuation of `untilCancelled`, resumed exactly once by whichever comes first: the
/// work's result or the cancellation (which may come before the continuation exists).
private final class CancellableWaiter<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, Error>?
        var early: Result<T, Error>?
        var done = false
        var task: Task<Void, Never>?
    }
    private let state = Mutex(State())

    func wait(_ continuation: CheckedContinuation<T, Error>) {
        let early: Result<T, Error>? = state.withLock { state in
            if let early = state.early {
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func attach(_ task: Task<Void, Never>) {
        let cancelled = state.withLock { state in
            state.task = task
            return state.done
        }
        if cancelled { task.cancel() }
    }

    func finish(_ result: Result<T, Error>) {
        let (continuation, task): (CheckedContinuation<T, Error>?, Task<Void, Never>?) = state.withLock { state in
            guard !state.done else { return (nil, nil) }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return (nil, nil)
            }
            state.done = true
            state.continuation = nil
            return (continuation, state.task)
        }
        continuation?.resume(with: result)
        // The work is told too; an HTTP delivery ends at once, a broker's when its client lets go.
        if case .failure(let error) = result, error is CancellationError { task?.cancel() }
    }
}

extension Result where Failure == any Error {
    fileprivate static func of(_ body: () async throws -> Success) async -> Result {
        do {
            return .success(try await body())
        } catch {
            return .failure(error)
        }
    }
}
