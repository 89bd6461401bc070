import DepotStorage
import Dispatch
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The synchronous side of the PostgreSQL index: the index seam (`IndexStore`) is synchronous
/// (closures, like LMDB's transactions), PostgresNIO is asynchronous.
///
/// Why futures and a semaphore, not `Task` and async/await: the engine calls the index from its
/// committer thread and from request handlers, some of which run on Swift's cooperative pool (two
/// threads on a two-core machine). Blocking a pool thread on a `Task` that itself needs a pool
/// thread can deadlock once every pool thread blocks that way. PostgresNIO's EventLoopFuture API
/// completes on its own event-loop threads, so the blocked caller always gets its answer (or its
/// timeout). Blocking an event-loop thread would deadlock the connection it waits for, so it is
/// refused outright. `depot serve` runs its request tasks on NIO's event loops (the NIO task
/// executor), so the server may call this index only from threads of its own (a thread pool, as
/// large reads already use), never straight from a request task.
enum BlockingPostgres {
    /// Waits for `future`, at most `seconds`.
    static func wait<T: Sendable>(_ future: EventLoopFuture<T>, seconds: Double, operation: String) throws -> T {
        precondition(
            MultiThreadedEventLoopGroup.currentEventLoop == nil,
            "the PostgreSQL index blocks: never call it on an event-loop thread (\(operation))")
        let outcome = Mutex<Result<T, any Error>?>(nil)
        let done = DispatchSemaphore(value: 0)
        future.whenComplete { result in
            outcome.withLock { $0 = result }
            done.signal()
        }
        guard done.wait(timeout: .now() + .milliseconds(Int(seconds * 1000))) == .success else {
            throw PostgresIndexError.unreachable(
                operation: operation, reason: "no answer within \(ClusterDatabaseError.format(seconds))s")
        }
        switch outcome.withLock({ $0 })! {
        case .success(let value): return value
        case .failure(let error as PSQLError): throw PostgresIndexError.from(error, operation: operation)
        // The EventLoopFuture API reports the server's refusals as the older PostgresError.
        case .failure(PostgresError.server(let refusal)):
            throw PostgresIndexError.refused(
                operation: operation, reason: refusal.fields[.message] ?? "refused", sqlState: refusal.fields[.sqlState])
        case .failure(let error): throw PostgresIndexError.unreachable(operation: operation, reason: "\(error)")
        }
    }
}

/// A PostgreSQL index operation that failed.
public enum PostgresIndexError: Error, CustomStringConvertible, IndexTransactionFailure {
    /// The connection could not be made, broke, or did not answer in time: the whole
    /// transaction is lost (the engine ends the batch; the client retries).
    case unreachable(operation: String, reason: String)
    /// The server refused one statement (a constraint, a read-only transaction); the
    /// transaction can go on after its savepoint is rolled back.
    case refused(operation: String, reason: String, sqlState: String?)
    /// A write in a read transaction, or a key the store does not take: refused before sending.
    case invalid(String)

    public var description: String {
        switch self {
        case .unreachable(let operation, let reason): return "PostgreSQL index, \(operation): \(reason)"
        case .refused(let operation, let reason, let state):
            return "PostgreSQL index, \(operation): \(reason)\(state.map { " (SQLSTATE \($0))" } ?? "")"
        case .invalid(let reason): return "PostgreSQL index: \(reason)"
        }
    }

    static func from(_ error: PSQLError, operation: String) -> PostgresIndexError {
        if let message = error.serverInfo?[.message] {
            return .refused(operation: operation, reason: message, sqlState: error.serverInfo?[.sqlState])
        }
        return .unreachable(operation: operation, reason: ClusterDatabase.describe(error))
    }

    /// A lost connection, a timeout, a serialization failure or a deadlock: the transaction as a
    /// whole cannot go on (the committer ends the batch instead of blaming one request).
    public var endsWholeTransaction: Bool {
        switch self {
        case .unreachable: return true
        case .refused(_, _, let state): return state == "40001" || state == "40P01"
        case .invalid: return false
        }
    }

    /// Another transaction changed what this one read or wrote (serialization failure, deadlock):
    /// running the transaction again on a new snapshot may succeed.
    public var isWriteConflict: Bool {
        if case .refused(_, _, let state) = self { return state == "40001" || state == "40P01" }
        return false
    }

    /// Whether the connection the error came from can still be used.
    var connectionIsUsable: Bool {
        if case .unreachable = self { return false }
        return true
    }
}
