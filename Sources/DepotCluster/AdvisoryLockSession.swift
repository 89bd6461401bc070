import DepotConfig
import Logging
import PostgresNIO

/// The dedicated PostgreSQL session that holds a node's session-level advisory locks (the
/// maintenance passes' leadership, the tus uploads' PATCH locks): opened with keepalives, so
/// that PostgreSQL ends the session of a node that vanished without closing its socket and so
/// frees its locks, and asked yes/no questions within a bound. One place for both holders.
enum AdvisoryLockSession {
    /// Opens the session, named `applicationName` in `pg_stat_activity` (so operators see who
    /// holds a lock), within `timeoutSeconds`; `purpose` names it in errors.
    static func open(
        location: PostgresLocation, applicationName: String, purpose: String, timeoutSeconds: Double, logger: Logger
    ) async throws -> PostgresConnection {
        var configuration = PostgresConnection.Configuration(
            host: location.host, port: location.port, username: location.user, password: location.password,
            database: location.database, tls: .disable)
        configuration.options.connectTimeout = .seconds(ClusterDatabase.connectTimeoutSeconds)
        configuration.options.additionalStartupParameters =
            ClusterDatabase.startupParameters.filter { $0.0 != "application_name" } + [
                ("application_name", applicationName),
                // A holder that vanished without closing its socket is noticed by PostgreSQL
                // (10 s idle, then 3 probes 5 s apart), which then ends its session and frees its locks.
                ("tcp_keepalives_idle", "10"), ("tcp_keepalives_interval", "5"), ("tcp_keepalives_count", "3"),
            ]
        let settings = configuration
        let quiet = ClusterDatabase.quiet(logger)
        let operation = "opening \(purpose)"
        return try await withDeadline(seconds: timeoutSeconds, operation: operation) {
            do {
                return try await PostgresConnection.connect(configuration: settings, id: 0, logger: quiet)
            } catch let error as PSQLError {
                throw ClusterDatabaseError.failed(operation: operation, reason: ClusterDatabase.describe(error))
            }
        }
    }

    /// Runs a query whose answer is one boolean (`pg_try_advisory_lock`, a liveness `SELECT
    /// true`), within `timeoutSeconds`.
    static func ask(
        _ connection: PostgresConnection, _ query: PostgresQuery, operation: String, timeoutSeconds: Double,
        logger: Logger
    ) async throws -> Bool {
        try await withDeadline(seconds: timeoutSeconds, operation: operation) {
            let rows = try await connection.query(query, logger: logger)
            for try await answer in rows.decode(Bool.self) { return answer }
            throw ClusterDatabaseError.failed(operation: operation, reason: "no row in the answer")
        }
    }
}
