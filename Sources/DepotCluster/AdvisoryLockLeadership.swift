import DepotConfig
import DepotEngine
import Logging
import PostgresNIO

/// Cluster mode's `MaintenanceLeadership`: one PostgreSQL advisory lock per maintenance pass,
/// held on this node's own connection (outside the index's pool, where a session lock would
/// follow the connection to other users).
///
/// The first node to ask for a pass takes its lock (`pg_try_advisory_lock`, which never waits)
/// and keeps it for as long as its session lives, so that node runs the pass every round; the
/// others find it taken and skip the round. Locks are the session's: when the holder dies (kill -9,
/// a crash, a stop) PostgreSQL ends its session and frees them, and the next node to try takes the
/// pass over at its next round. Each round the holder proves the session is still there with one
/// query on it; if that fails the locks are gone with it, and this node stops running the pass
/// until it takes the lock again. TCP keepalives on the session let PostgreSQL notice a holder
/// that vanished from the network (no FIN) within about 25 s.
///
/// A pass that was under way when its holder lost the session may overlap the next holder's for
/// a moment; the passes tolerate that (an expiry deletes only the version it judged, with a
/// precondition), it is only wasted work.
public actor AdvisoryLockLeadership: MaintenanceLeadership {
    let location: PostgresLocation
    let node: String
    let logger: Logger
    private var connection: PostgresConnection?
    private var opening: Task<PostgresConnection, any Error>?
    private var held: Set<MaintenancePass> = []
    /// Passes this node was told another node runs, so that is said once, not every round.
    private var skipped: Set<MaintenancePass> = []
    private var unreachable = false

    /// The bound on connecting and on each query.
    public static let timeoutSeconds: Double = 5

    public init(location: PostgresLocation, node: String, logger: Logger) {
        self.location = location
        self.node = node
        self.logger = logger
    }

    /// Each pass's lock key: the migrations' key ("depot" in ASCII) shifted left a byte, plus the
    /// pass's number. Numbers are never reused: a node of an older version must contend for the
    /// same lock as a newer one.
    public static func lockKey(_ pass: MaintenancePass) -> Int64 {
        let number: Int64
        switch pass {
        case .lifecycle: number = 1
        case .abandonedUploads: number = 2
        case .compaction: number = 3
        }
        return ClusterSchema.migrationLockKey << 8 | number
    }

    /// The name the session shows in `pg_stat_activity`: who holds a pass's lock (with `pg_locks`).
    public static func applicationName(node: String) -> String { "depot maintenance \(node)" }

    public func mayRun(_ pass: MaintenancePass) async -> Bool {
        do {
            let connection = try await openConnection()
            if held.contains(pass) {
                // The lock lasts as long as the session: an answer on it proves both.
                _ = try await ask(connection, "SELECT true", operation: "checking the maintenance session")
                return true
            }
            let acquired = try await ask(
                connection, "SELECT pg_try_advisory_lock(\(Self.lockKey(pass)))", operation: "taking the \(pass) lock")
            if unreachable {
                logger.notice("cluster index reachable again: maintenance passes resume")
                unreachable = false
            }
            if acquired {
                held.insert(pass)
                skipped.remove(pass)
                logger.notice(
                    "maintenance: node \(node) runs the \(pass.rawValue) pass (advisory lock \(Self.lockKey(pass))); the other nodes skip it while this node lives"
                )
            } else if skipped.insert(pass).inserted {
                logger.info(
                    "maintenance: another node runs the \(pass.rawValue) pass; node \(node) skips it while that node lives")
            }
            return acquired
        } catch {
            await dropConnection(after: error)
            return false
        }
    }

    /// The session holding this node's locks, opened when first needed.
    private func openConnection() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        if connection != nil { await dropConnection(after: nil) }
        if let opening { return try await opening.value }
        let (location, node, logger) = (location, node, logger)
        let task = Task { try await Self.connect(location: location, node: node, logger: logger) }
        opening = task
        defer { opening = nil }
        let opened = try await task.value
        connection = opened
        return opened
    }

    /// Forgets the session and with it every lock (PostgreSQL freed them when it ended; closing
    /// it here makes sure it does end).
    private func dropConnection(after error: (any Error)?) async {
        if !held.isEmpty {
            logger.warning(
                "maintenance: node \(node) lost its session to the cluster index\(error.map { " (\($0))" } ?? ""), and with it the \(held.map(\.rawValue).sorted().joined(separator: ", ")) pass; another node may take it over"
            )
        } else if let error, !unreachable {
            logger.warning("maintenance: cluster index unreachable (\(error)); maintenance passes wait for it")
            unreachable = true
        }
        held = []
        skipped = []
        if let connection {
            self.connection = nil
            try? await connection.close()
        }
    }

    private func ask(_ connection: PostgresConnection, _ query: PostgresQuery, operation: String) async throws -> Bool {
        try await AdvisoryLockSession.ask(
            connection, query, operation: operation, timeoutSeconds: Self.timeoutSeconds, logger: logger)
    }

    static func connect(location: PostgresLocation, node: String, logger: Logger) async throws -> PostgresConnection {
        try await AdvisoryLockSession.open(
            location: location, applicationName: applicationName(node: node), purpose: "the maintenance session",
            timeoutSeconds: timeoutSeconds, logger: logger)
    }
}
