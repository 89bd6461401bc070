import DepotConfig
import Dispatch
import Logging
import NIOCore
import NIOPosix
import PostgresNIO
import Synchronization

/// The PostgreSQL index's connections: at most `maximum` open at once, made on demand, kept for
/// reuse, and dropped when one breaks or times out (the next caller makes a new one).
///
/// While the server is unreachable, attempts are spaced by a backoff doubling from 0.5 s to
/// 8 s; a caller in between fails at once instead of waiting for a connect timeout, so requests
/// get a quick error (503, or an answer from the outage cache) rather than a slow one. Once the
/// backoff has passed, one caller tries again while the others still fail at once: a server
/// that went silent (a dropped route, a firewall) costs one caller its connect timeout per
/// attempt, not every caller that arrives meanwhile. Every wait is bounded: for a free
/// connection (`timeout`), for a connect (`ClusterDatabase.connectTimeoutSeconds`).
final class IndexConnections: Sendable {
    private struct State {
        var idle: [PostgresConnection] = []
        var nextId = 1
        /// Set after a failed connect: no new attempt before this instant.
        var retryAfter: ContinuousClock.Instant?
        var backoff: Double = 0.5
        /// After a failed connect, the one attempt in flight, if any.
        var probing = false
        var closed = false
    }

    let location: PostgresLocation
    let timeout: Double
    let maximum: Int
    let logger: Logger
    private let permits: DispatchSemaphore
    private let state = Mutex(State())

    static let maximumBackoffSeconds: Double = 8

    init(location: PostgresLocation, maximum: Int, timeout: Double, logger: Logger) {
        self.location = location
        self.maximum = maximum
        self.timeout = timeout
        self.logger = logger
        permits = DispatchSemaphore(value: maximum)
    }

    /// A connection for one transaction; hand it back with `giveBack`.
    func take() throws -> PostgresConnection {
        guard permits.wait(timeout: .now() + .milliseconds(Int(timeout * 1000))) == .success else {
            throw PostgresIndexError.unreachable(
                operation: "waiting for a connection",
                reason: "all \(maximum) connections busy for \(ClusterDatabaseError.format(timeout))s")
        }
        do {
            return try idleOrNew()
        } catch {
            permits.signal()
            throw error
        }
    }

    private func idleOrNew() throws -> PostgresConnection {
        let now = ContinuousClock.now
        let (reused, id, waitUntil) = state.withLock { s -> (PostgresConnection?, Int, ContinuousClock.Instant?) in
            while let connection = s.idle.popLast() {
                if !connection.isClosed { return (connection, 0, nil) }
            }
            if let after = s.retryAfter {
                if now < after || s.probing { return (nil, 0, max(after, now)) }
                s.probing = true
            }
            s.nextId += 1
            return (nil, s.nextId, nil)
        }
        if let reused { return reused }
        if let waitUntil {
            let seconds = Double((waitUntil - now).components.attoseconds) / 1e18 + Double((waitUntil - now).components.seconds)
            throw PostgresIndexError.unreachable(
                operation: "connecting to \(location)",
                reason: seconds > 0
                    ? "unreachable, next attempt in \(String(format: "%.1f", seconds))s"
                    : "unreachable, another caller is reconnecting")
        }
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(ClusterDatabase.connectTimeoutSeconds)
        configuration.options.additionalStartupParameters = ClusterDatabase.startupParameters
        let connecting = PostgresConnection.connect(
            on: MultiThreadedEventLoopGroup.singleton.any(), configuration: configuration, id: id,
            logger: ClusterDatabase.quiet(logger))
        do {
            let connection = try BlockingPostgres.wait(
                connecting, seconds: Double(ClusterDatabase.connectTimeoutSeconds) + 1, operation: "connecting to \(location)")
            state.withLock {
                $0.retryAfter = nil
                $0.backoff = 0.5
                $0.probing = false
            }
            return connection
        } catch {
            // A server that answers after the wait gave up: its connection is closed, not leaked.
            connecting.whenSuccess { Self.close($0) }
            state.withLock {
                $0.retryAfter = .now + .milliseconds(Int64($0.backoff * 1000))
                $0.backoff = min($0.backoff * 2, Self.maximumBackoffSeconds)
                $0.probing = false
            }
            throw error
        }
    }

    /// Returns a connection after its transaction; one that broke (`usable` false) is closed.
    func giveBack(_ connection: PostgresConnection, usable: Bool) {
        let keep =
            usable && !connection.isClosed
            && state.withLock { s in
                guard !s.closed else { return false }
                s.idle.append(connection)
                return true
            }
        if !keep { Self.close(connection) }
        permits.signal()
    }

    /// Closes the idle connections; connections in use close when given back.
    func close() {
        let idle = state.withLock { s -> [PostgresConnection] in
            s.closed = true
            defer { s.idle = [] }
            return s.idle
        }
        for connection in idle { Self.close(connection) }
    }

    /// PostgresNIO asserts that a connection is closed before it is freed: the close's callback
    /// keeps it until then.
    static func close(_ connection: PostgresConnection) {
        connection.close().whenComplete { _ in withExtendedLifetime(connection) {} }
    }
}
