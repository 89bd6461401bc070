import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Glibc
import Logging

/// `depot fsck` in cluster mode (README "Pack compaction and fsck in cluster mode"): the shared
/// index in PostgreSQL checked against the packs in the object store while the nodes keep
/// serving. Unlike embedded fsck it opens no engine and takes no data-directory lock: it reads
/// the index's tables in snapshots and the store's objects, and writes only when asked to remove
/// orphan packs. Its pack store has a read cache of its own in a temporary directory (a node's
/// cache directory is that node's: opening it would tidy files the node is writing).
public enum ClusterFsck {
    /// Whether `configuration` makes `depot fsck` check a cluster (index and chunks shared).
    public static func applies(_ configuration: DepotConfiguration) -> Bool {
        ClusterIndexSetup.sharesIndex(configuration.cluster)
    }

    public static func run(
        _ configuration: DepotConfiguration, options: PackFsckOptions, logger: Logger, progress: (String) -> Void
    ) throws -> PackFsckReport {
        try ClusterPacksOffline.with(configuration, command: "fsck", logger: logger) { packs, index in
            try Engine.fsckPacks(index: index, packs: packs, options: options, progress: progress)
        }
    }
}
