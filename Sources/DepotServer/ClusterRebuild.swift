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
        guard var cluster = configuration.cluster, ClusterIndexSetup.sharesIndex(cluster) else {
            throw ServerError.startup("fsck --rebuild-index in cluster mode needs cluster.index and cluster.chunks")
        }
        var template = Array("/tmp/depot-rebuild-cache-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ServerError.startup("fsck --rebuild-index: cannot make a temporary directory for its read cache")
        }
        let cacheDirectory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { removeDirectory(cacheDirectory) }
        // A cache of its own: a node's cache directory is that node's.
        cluster.cache = ClusterChunkCache(path: cacheDirectory, size: ClusterChunkCache.minimumSize)
        var engineConfiguration = EngineConfiguration(dataDirectory: cacheDirectory)
        try engineConfiguration.chooseChunkStore(cluster, logger: logger)
        guard let packs = engineConfiguration.chunkStore as? any PackMaintenanceStore else {
            throw ServerError.startup("fsck --rebuild-index: the configured chunk store has no packs to read")
        }
        let index = PostgresIndex(location: cluster.index, logger: logger)
        if force { try index.emptyForRebuild() }
        let report = try Engine.rebuildIndex(fromPacks: packs, into: index, progress: progress, advance: advance)
        // Where the schema takes numbers from a PostgreSQL sequence (depot_sequence), that is
        // what nodes use, not the meta row the rebuild wrote: move it past the log's numbers.
        try index.execute(
            """
            DO $$ BEGIN
              IF EXISTS (SELECT 1 FROM pg_class WHERE relname = 'depot_sequence' AND relkind = 'S') THEN
                PERFORM setval('depot_sequence', GREATEST(\(report.nextSequence), (SELECT last_value FROM depot_sequence)));
              END IF;
            END $$
            """)
        return report
    }

    /// Removes the rebuild's own cache directory and the block files in it.
    private static func removeDirectory(_ path: String) {
        guard let directory = opendir(path) else { return }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(directory)
        rmdir(path)
    }
}
