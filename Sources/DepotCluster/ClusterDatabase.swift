import DepotConfig
import Logging
import NIOCore
import NIOPosix
import PostgresNIO

/// The cluster's PostgreSQL: a connection pool with bounded waits.
///
/// Reconnecting is the pool's job: a connection that breaks is dropped, and the next lease makes
/// a new one, retrying with backoff while the server is away. What this type adds is the bound
/// on every wait (`withDeadline`), so a caller sees `ClusterDatabaseError.timedOut` instead of
/// hanging while PostgreSQL is down, and a server-side `statement_timeout` so a query stuck on a
/// lock is ended by PostgreSQL itself.
///
/// `run()` must be running (it drives the pool); `ClusterDatabase.using` does that for commands.
public final class ClusterDatabase: Sendable {
    public let location: PostgresLocation
    let client: PostgresClient
    let logger: Logger
    /// The bound on one operation (a lease plus its queries).
    public let operationTimeout: Double

    /// Connecting: a loopback or LAN server answers in milliseconds; 5 s covers a busy one.
    public static let connectTimeoutSeconds: Int64 = 5
    /// The longest any one statement may run on the server (ms), sent at connection start.
    public static let statementTimeoutMilliseconds = 30_000

    public init(location: PostgresLocation, maximumConnections: Int = 8, operationTimeout: Double = 10, logger: Logger) {
        self.location = location
        self.logger = logger
        self.operationTimeout = operationTimeout
        var configuration = PostgresClient.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        configuration.options.maximumConnections = maximumConnections
        configuration.options.minimumConnections = 0
        configuration.options.connectionIdleTimeout = .seconds(60)
        configuration.options.keepAliveBehavior = .init(frequency: .seconds(30))
        configuration.options.additionalStartupParameters = Self.startupParameters
        client = PostgresClient(configuration: configuration, backgroundLogger: Self.quiet(logger))
    }

    /// Sent with every connection: bounds on statements and lock waits, and a name in
    /// `pg_stat_activity`.
    static let startupParameters: [(String, String)] = [
        ("statement_timeout", String(statementTimeoutMilliseconds)),
        ("lock_timeout", String(statementTimeoutMilliseconds)),
        ("application_name", "depot"),
    ]

    /// The pool logs each failed connection attempt; during an outage that is one line per
    /// retry. Depot logs the outage once where it matters (the heartbeat), so the pool's own
    /// messages go at debug level only.
    static func quiet(_ logger: Logger) -> Logger {
        var copy = logger
        if copy.logLevel < .warning { copy.logLevel = max(copy.logLevel, .warning) }
        return copy
    }

    /// Drives the pool until cancelled.
    public func run() async { await client.run() }

    /// Runs `body` with a database whose pool runs for the body's duration (commands).
    public static func using<T: Sendable>(
        _ location: PostgresLocation, logger: Logger, _ body: @escaping @Sendable (ClusterDatabase) async throws -> T
    ) async throws -> T {
        let database = ClusterDatabase(location: location, maximumConnections: 2, logger: logger)
        // One direct connection first: a server that is down or refuses the login is reported at
        // once with its reason (connection refused, password authentication failed), where the
        // pool would keep retrying until the operation's timeout and say only that.
        try await database.withDedicatedConnection(
            "connecting", timeout: Double(connectTimeoutSeconds) + 1
        ) { _ in }
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await database.run()
                return nil
            }
            defer { group.cancelAll() }
            let result = try await body(database)
            return result
        }
    }

    /// A pooled connection for `body`, the whole bounded by `operationTimeout`.
    public func withConnection<T: Sendable>(
        _ operation: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        let client = client
        return try await withDeadline(seconds: operationTimeout, operation: operation) {
            do {
                return try await client.withConnection { connection in try await body(connection) }
            } catch let error as PSQLError {
                throw ClusterDatabaseError.failed(operation: operation, reason: Self.describe(error))
            }
        }
    }

    /// A dedicated connection, outside the pool, closed after `body`: for session state that
    /// must not leak to other users of a pooled connection (the migrations' advisory lock; a
    /// lock left on a pooled connection would be held until that connection closes).
    public func withDedicatedConnection<T: Sendable>(
        _ operation: String, timeout: Double, _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws -> T {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(Self.connectTimeoutSeconds)
        configuration.options.additionalStartupParameters = Self.startupParameters
        let logger = Self.quiet(logger)
        let settings = configuration
        return try await withDeadline(seconds: timeout, operation: operation) {
            let connection: PostgresConnection
            do {
                connection = try await PostgresConnection.connect(configuration: settings, id: 0, logger: logger)
            } catch let error as PSQLError {
                throw ClusterDatabaseError.failed(operation: operation, reason: Self.describe(error))
            }
            do {
                let result = try await body(connection)
                try? await connection.close()
                return result
            } catch let error as PSQLError {
                try? await connection.close()
                throw ClusterDatabaseError.failed(operation: operation, reason: Self.describe(error))
            } catch {
                try? await connection.close()
                throw error
            }
        }
    }

    /// PSQLError's description hides the server's message (it may hold data); the server's
    /// message text names the problem (relation missing, authentication failed) without it.
    static func describe(_ error: PSQLError) -> String {
        if let message = error.serverInfo?[.message] {
            let code = error.serverInfo?[.sqlState].map { " (SQLSTATE \($0))" } ?? ""
            return message + code
        }
        if let underlying = error.underlying { return "\(underlying)" }
        switch error.code {
        case .connectionError: return "cannot connect"
        case .serverClosedConnection, .clientClosedConnection: return "the connection closed"
        default: return "\(error.code)"
        }
    }
}
