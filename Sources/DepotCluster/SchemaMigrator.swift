import Logging
import PostgresNIO

/// Brings a database to `ClusterSchema.latestVersion`.
///
/// Every step runs on one dedicated connection holding `pg_advisory_lock`, so two nodes starting
/// at once apply each migration once: the second waits for the lock (bounded by the server's
/// `lock_timeout`), then finds the work done. Each migration and its row in
/// `depot_schema_migrations` commit in one transaction, so a crash leaves it applied or not.
public struct SchemaMigrator: Sendable {
    public struct Outcome: Sendable, Equatable {
        /// The schema version before and after.
        public let from: Int
        public let to: Int
        /// The versions applied by this run (empty: nothing to do).
        public let applied: [Int]
    }

    let database: ClusterDatabase
    let migrations: [ClusterSchema.Migration]

    public init(database: ClusterDatabase, migrations: [ClusterSchema.Migration] = ClusterSchema.migrations) {
        self.database = database
        self.migrations = migrations
    }

    /// The bound on a whole migration run, lock wait included.
    public static let timeoutSeconds: Double = 60

    public func migrate() async throws -> Outcome {
        let migrations = migrations
        let known = migrations.last?.version ?? 0
        return try await database.withDedicatedConnection("applying the cluster schema", timeout: Self.timeoutSeconds) {
            connection in
            let logger = Logger(label: "depot.cluster.migrations")
            try await connection.query("SELECT pg_advisory_lock(\(ClusterSchema.migrationLockKey))", logger: logger)
            // The connection closes after this body, which releases the lock even if an unlock
            // below never runs.
            try await connection.query(
                PostgresQuery(
                    unsafeSQL: """
                        CREATE TABLE IF NOT EXISTS \(ClusterSchema.migrationsTable)
                            (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())
                        """), logger: logger)
            let before = try await Self.currentVersion(connection, logger: logger)
            guard before <= known else { throw ClusterDatabaseError.schemaTooNew(found: before, known: known) }
            var applied: [Int] = []
            for migration in migrations where migration.version > before {
                try await connection.query("BEGIN", logger: logger)
                do {
                    for statement in migration.statements {
                        try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                    }
                    try await connection.query(
                        "INSERT INTO depot_schema_migrations (version, applied_at) VALUES (\(migration.version), now())",
                        logger: logger)
                    try await connection.query("COMMIT", logger: logger)
                } catch {
                    _ = try? await connection.query("ROLLBACK", logger: logger)
                    throw error
                }
                applied.append(migration.version)
            }
            try await connection.query("SELECT pg_advisory_unlock(\(ClusterSchema.migrationLockKey))", logger: logger)
            return Outcome(from: before, to: applied.last ?? before, applied: applied)
        }
    }

    /// The highest applied version (0 on a database never migrated).
    static func currentVersion(_ connection: PostgresConnection, logger: Logger) async throws -> Int {
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT coalesce(max(version), 0) FROM \(ClusterSchema.migrationsTable)"), logger: logger)
        for try await version in rows.decode(Int32.self) { return Int(version) }
        return 0
    }

    /// The database's schema version without changing anything (0: not initialised).
    public static func version(of database: ClusterDatabase) async throws -> Int {
        try await database.withConnection("reading the cluster schema version") { connection in
            let logger = Logger(label: "depot.cluster.migrations")
            let exists = try await connection.query(
                "SELECT to_regclass('depot_schema_migrations') IS NOT NULL", logger: logger)
            for try await present in exists.decode(Bool.self) where !present { return 0 }
            return try await currentVersion(connection, logger: logger)
        }
    }
}
