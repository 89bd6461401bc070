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
        guard var cluster = configuration.cluster, ClusterIndexSetup.sharesIndex(cluster) else {
            throw ServerError.startup("fsck in cluster mode needs cluster.index and cluster.chunks")
        }
        var template = Array("/tmp/depot-fsck-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ServerError.startup("fsck: cannot make a temporary directory for its read cache")
        }
        let cacheDirectory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { removeTree(cacheDirectory) }
        cluster.cache = ClusterChunkCache(path: cacheDirectory, size: ClusterChunkCache.minimumSize)
        var engineConfiguration = EngineConfiguration(dataDirectory: cacheDirectory)
        try engineConfiguration.chooseChunkStore(cluster, logger: logger)
        guard let packs = engineConfiguration.chunkStore as? any PackMaintenanceStore else {
            throw ServerError.startup("fsck: the configured chunk store has no packs to check")
        }
        let index = PostgresIndex(location: cluster.index, logger: logger)
        return try Engine.fsckPacks(index: index, packs: packs, options: options, progress: progress)
    }

    /// Removes the fsck's own cache directory and the block files in it.
    private static func removeTree(_ path: String) {
        guard let directory = opendir(path) else { return }
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { unlink(path + "/" + name) }
        }
        closedir(directory)
        rmdir(path)
    }
}
