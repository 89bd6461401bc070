import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Glibc
import Logging

/// `depot fsck --rebuild-index` in cluster mode (README "Pack compaction and fsck in cluster
/// mode"): the shared PostgreSQL index rebuilt from the pack objects, as the embedded rebuild
/// restores LMDB from the segments (Engine.rebuildIndex(fromPacks:into:)). It writes into an
/// empty, initialised database (`depot cluster init`) while no node runs, then moves the
/// database's commit sequence past every record's number, so a node's next commit is newer
/// than anything in the log.
public enum ClusterRebuild {
    /// `force`: empty a filled index first (PostgresIndex.emptyForRebuild), refused while a
    /// node's heartbeat is fresh.
    public static func run(
        _ configuration: DepotConfiguration, force: Bool = false, logger: Logger, progress: (String) -> Void,
        advance: (WorkProgress) -> Void
    ) throws -> RebuildReport {
        try ClusterPacksOffline.with(configuration, command: "fsck --rebuild-index", logger: logger) { packs, index in
            if force { try index.emptyForRebuild() }
            let report = try Engine.rebuildIndex(fromPacks: packs, into: index, progress: progress, advance: advance)
            // Where the schema takes numbers from a PostgreSQL sequence (depot_sequence), that is
            // what nodes use, not the meta row the rebuild wrote: move it past the log's numbers.
            let sequence = ClusterSchema.sequenceName
            try index.execute(
                """
                DO $$ BEGIN
                  IF EXISTS (SELECT 1 FROM pg_class WHERE relname = '\(sequence)' AND relkind = 'S') THEN
                    PERFORM setval('\(sequence)', GREATEST(\(report.nextSequence), (SELECT last_value FROM \(sequence))));
                  END IF;
                END $$
                """)
            return report
        }
    }
}
