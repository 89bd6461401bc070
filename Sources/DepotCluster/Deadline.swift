import Synchronization

/// What went wrong talking to the cluster's PostgreSQL, said for an operator.
public enum ClusterDatabaseError: Error, CustomStringConvertible, Sendable {
    /// The operation did not finish within its bound (server unreachable, a lock held elsewhere).
    case timedOut(operation: String, seconds: Double)
    /// The schema is newer than this depot knows: a newer depot migrated it.
    case schemaTooNew(found: Int, known: Int)
    /// The server answered with an error (its message, without the query's parameters).
    case failed(operation: String, reason: String)

    public var description: String {
        switch self {
        case .timedOut(let operation, let seconds):
            return "\(operation): no answer from PostgreSQL within \(Self.format(seconds))s"
        case .schemaTooNew(let found, let known):
            return "the cluster schema is at version \(found), newer than this depot knows (\(known)): upgrade depot"
        case .failed(let operation, let reason):
            return "\(operation): \(reason)"
        }
    }

    static func format(_ seconds: Double) -> String {
        seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
    }
}

/// Runs `operation` and gives up after `seconds`, or when the caller is cancelled.
///
/// Why not a task group racing a sleep: a group waits for all its children, and a PostgresNIO
/// call that is waiting on a connection the pool keeps failing to make, or on a reply from a
/// server that went silent, does not return on cancellation right away; the caller would wait
/// as long as the stuck call. Here the caller is resumed by whichever comes first, and the
/// operation's task is cancelled and left to finish on its own (the pool bounds its attempts).
func withDeadline<T: Sendable>(
    seconds: Double, operation name: String, _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try Task.checkCancellation()
    let race = DeadlineRace<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            race.start(
                continuation,
                work: Task {
                    do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
                },
                timer: Task {
                    try? await Task.sleep(for: .milliseconds(Int64(seconds * 1000)))
                    if !Task.isCancelled {
                        race.finish(.failure(ClusterDatabaseError.timedOut(operation: name, seconds: seconds)))
                    }
                })
        }
    } onCancel: {
        race.finish(.failure(CancellationError()))
    }
}

/// The state `withDeadline` shares between the operation, the timer and cancellation: the
/// first to finish resumes the caller and cancels the others.
private final class DeadlineRace<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var work: Task<Void, Never>?
        var timer: Task<Void, Never>?
        /// An outcome that arrived before `start` (cancellation, a very fast operation).
        var early: Result<T, any Error>?
        var done = false
    }
    private let state = Mutex(State())

    func start(_ continuation: CheckedContinuation<T, any Error>, work: Task<Void, Never>, timer: Task<Void, Never>) {
        let early = state.withLock { s -> Result<T, any Error>? in
            if let early = s.early { return early }
            s.continuation = continuation
            s.work = work
            s.timer = timer
            return nil
        }
        if let early {
            work.cancel()
            timer.cancel()
            continuation.resume(with: early)
        }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, work, timer) = state.withLock {
            s -> (CheckedContinuation<T, any Error>?, Task<Void, Never>?, Task<Void, Never>?) in
            guard !s.done else { return (nil, nil, nil) }
            guard let continuation = s.continuation else {
                if s.early == nil { s.early = result }
                return (nil, nil, nil)
            }
            s.done = true
            s.continuation = nil
            return (continuation, s.work, s.timer)
        }
        guard let continuation else { return }
        work?.cancel()
        timer?.cancel()
        continuation.resume(with: result)
    }
}
