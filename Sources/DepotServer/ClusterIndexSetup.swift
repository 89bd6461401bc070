import DepotCluster
import DepotConfig
import DepotStorage
import Logging

/// Cluster mode's index (README "Cluster mode"): with both `cluster.index` and `cluster.chunks`,
/// the engine runs over the PostgreSQL index every node shares; otherwise over the LMDB index in
/// the data directory, exactly as in embedded mode.
///
/// Why some state stays per node (README "Cluster mode"): the engine keeps in memory only what is
/// cheap to be stale about, and the one value whose staleness broke other nodes' writes, the
/// sequence number keying records and event outbox rows, is read from the index in every batch
/// (`IndexStore.isSharedBetweenNodes`). Admin-changed configuration (tiers, policies, sinks,
/// accounts and their quota limits, bucket documents) follows other nodes' changes within a second
/// (`ConfigurationGeneration`), and the background passes over the shared index run on one node at
/// a time (`AdvisoryLockLeadership`; both wired in ClusterCoordination.swift). Still per node: the
/// outbox size behind `whenFull`, opened encryption data keys, console figures. Tier tasks and event outbox rows are
/// claimed by one node at a time with a lease (`IndexClaims`, PostgresIndex+Claims.swift).
///
/// Why index reads block request tasks: the index seam is synchronous, so a request handler on
/// Swift's cooperative pool waits on its thread for PostgreSQL (bounded, `BlockingPostgres`); the
/// answers complete on NIO's threads, so this costs throughput, never a deadlock. Hence no
/// event-loop executor in cluster mode (`depot serve` skips `DEPOT_NIO_EXECUTOR`).
public enum ClusterIndexSetup {
    /// Whether `cluster` puts the engine's index in PostgreSQL. `cluster.index` alone keeps the
    /// index local (LMDB) and uses PostgreSQL for the node's heartbeat only: an index shared by
    /// nodes whose chunks sit in their own local segments would point at bytes the others cannot
    /// read, so the shared index needs the shared chunk store (`cluster.chunks`).
    public static func sharesIndex(_ cluster: ClusterSettings?) -> Bool {
        cluster?.chunks != nil
    }

    /// Creates or migrates the shared index's schema before the engine opens it (idempotent and
    /// safe while other nodes start: `SchemaMigrator` holds an advisory lock), then checks that
    /// this node's `cluster.keyFile` is the cluster's key (`ClusterKeyCheck`; the first node
    /// records it), so a node given another key refuses to start. Nothing to do outside
    /// cluster mode.
    public static func prepare(_ cluster: ClusterSettings?, logger: Logger) async throws {
        guard let cluster, sharesIndex(cluster) else { return }
        let (outcome, recordedKey) = try await ClusterDatabase.using(cluster.index, logger: logger) { database in
            let outcome = try await SchemaMigrator(database: database).migrate()
            // The configuration refuses cluster.chunks without cluster.keyFile.
            guard let key = cluster.key else { return (outcome, false) }
            return (outcome, try await ClusterKeyCheck.verify(key, database: database))
        }
        if !outcome.applied.isEmpty {
            logger.notice("cluster index \(cluster.index): schema version \(outcome.to) (was \(outcome.from))")
        }
        if recordedKey, let key = cluster.key {
            logger.notice("cluster index \(cluster.index): recorded the cluster key's check value \(key.checkValue)")
        }
    }

    /// The cluster's key when the index is shared (its nodes must share their secrets), nil
    /// otherwise: the one place deciding whether secrets come from `cluster.keyFile` or from the
    /// data directory.
    static func sharedKey(_ cluster: ClusterSettings?) -> ClusterKey? {
        sharesIndex(cluster) ? cluster?.key : nil
    }

    /// The index the engine runs over: the shared PostgreSQL index in cluster mode, nil (the
    /// data directory's LMDB) otherwise. `prepare` must have run first.
    static func index(_ cluster: ClusterSettings?, logger: Logger) -> (any IndexStore)? {
        guard let cluster, sharesIndex(cluster) else {
            if let cluster {
                logger.warning(
                    "cluster.index without cluster.chunks: the index stays in this node's data directory (LMDB) and PostgreSQL holds only its heartbeat (\(cluster.index)); set cluster.chunks to share the namespace"
                )
            }
            return nil
        }
        logger.notice("index in PostgreSQL at \(cluster.index), shared by every node of the cluster")
        // Claims on tier tasks and outbox rows carry the node's name and last cluster.leaseSeconds.
        return PostgresIndex(
            location: cluster.index, claimant: cluster.node, leaseSeconds: Double(cluster.leaseSeconds), logger: logger)
    }
}
