import DepotConfig
import DepotEngine
import Logging
import PostgresNIO
import ServiceLifecycle

/// How the nodes of a cluster learn that another node changed the configuration (README "Cluster
/// mode"): every write of the shared index that changes what a node builds its runtime
/// configuration from (admin-made tiers, policies and event sinks, stored accounts, bucket
/// records with their documents: policy, CORS, lifecycle, notifications, replication...) adds one
/// to `depot_generations.configuration` in the same transaction (`PostgresIndex` calls
/// `bumpSQL` before COMMIT), and every node reads that one row every second
/// (`ConfigurationFollower`) and rebuilds its configuration when it moved, as it does after its
/// own changes. Being in the same transaction, a node that sees the new generation also sees the
/// change.
public enum ConfigurationGeneration {
    /// The settings kinds the runtime configuration is built from (RuntimeConfiguration's
    /// overlay); the table's other items (event sinks' cursors, replication jobs, Vault upload
    /// sessions) change often and configure nothing.
    static let settingKinds = ["tier/", "policy/", "sink/"].map { Array($0.utf8) }

    /// Whether a write of `key` in the index table `table` changes the configuration.
    static func covers(table: String, key: [UInt8]) -> Bool {
        switch table {
        case IndexTable.accounts.rawValue, IndexTable.buckets.rawValue: return true
        case IndexTable.settings.rawValue: return settingKinds.contains { key.starts(with: $0) }
        default: return false
        }
    }

    /// Whether clearing the whole table does.
    static func coversClearing(table: String) -> Bool {
        [IndexTable.accounts.rawValue, IndexTable.buckets.rawValue, IndexTable.settings.rawValue].contains(table)
    }

    static let table = "depot_generations"
    static let bumpSQL = "UPDATE depot_generations SET value = value + 1 WHERE name = 'configuration'"
    static let readSQL = "SELECT value FROM depot_generations WHERE name = 'configuration'"
}

extension PostgresIndex {
    /// The configuration generation now (blocking, bounded like every index call): read once at
    /// start, before the configuration is built, so a change made by another node between that
    /// build and the follower's first poll is not missed.
    public func configurationGeneration() throws -> Int64 {
        let connection = try connections.take()
        var usable = true
        defer { connections.giveBack(connection, usable: usable) }
        do {
            let rows = try BlockingPostgres.wait(
                connection.query(ConfigurationGeneration.readSQL, []), seconds: timeout,
                operation: "reading the configuration generation")
            guard let row = rows.first else { return 0 }
            return try row.makeRandomAccess()[0].decode(Int64.self)
        } catch let error as PostgresIndexError {
            usable = error.connectionIsUsable
            throw error
        }
    }
}

/// Polls the configuration generation every `interval` and calls `changed` when it moved (another
/// node's change, or this node's own: rebuilding again then is harmless). Each read is one row,
/// bounded by `ClusterDatabase`'s timeout; while PostgreSQL is away the outage is logged once and
/// polling goes on. Ends on cancellation or graceful shutdown.
public final class ConfigurationFollower: Service, Sendable {
    let database: ClusterDatabase
    let baseline: Int64?
    let interval: Duration
    let changed: @Sendable (Int64) async -> Void
    let logger: Logger

    public init(
        location: PostgresLocation, baseline: Int64?, interval: Duration = .seconds(1), logger: Logger,
        changed: @escaping @Sendable (Int64) async -> Void
    ) {
        database = ClusterDatabase(location: location, maximumConnections: 1, operationTimeout: 5, logger: logger)
        self.baseline = baseline
        self.interval = interval
        self.changed = changed
        self.logger = logger
    }

    public func run() async throws {
        await withDiscardingTaskGroup { group in
            group.addTask { await self.database.run() }
            await cancelWhenGracefulShutdown { await self.followUntilCancelled() }
            group.cancelAll()
        }
    }

    func followUntilCancelled() async {
        var seen = baseline
        var outage = false
        while !Task.isCancelled {
            do {
                let now = try await database.withConnection("reading the configuration generation") { connection in
                    let rows = try await connection.query(
                        PostgresQuery(unsafeSQL: ConfigurationGeneration.readSQL),
                        logger: Logger(label: "depot.cluster.generation"))
                    for try await value in rows.decode(Int64.self) { return value }
                    return Int64(0)
                }
                if outage { logger.notice("configuration generation readable again; following other nodes' changes") }
                outage = false
                // Without a baseline (unreadable at start) the first answer is one: rebuilding
                // once then catches up with whatever changed meanwhile.
                if now != seen {
                    seen = now
                    await changed(now)
                }
            } catch is CancellationError {
                return
            } catch {
                if !outage {
                    logger.warning(
                        "reading the configuration generation failed (\(error)); other nodes' changes reach this node once it is readable"
                    )
                }
                outage = true
            }
            do { try await Task.sleep(for: interval) } catch { return }
        }
    }
}
