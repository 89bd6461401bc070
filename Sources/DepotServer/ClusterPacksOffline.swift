import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Glibc
import Logging

/// The cluster's shared index and pack store as the offline commands open them (`depot fsck`
/// and `depot fsck --rebuild-index` in cluster mode): no engine, no data-directory lock, and a
/// read cache of their own in a temporary directory removed afterwards (a node's cache directory
/// is that node's: opening it would tidy files the node is writing).
enum ClusterPacksOffline {
    /// Runs `body` with the configured cluster's pack store and PostgreSQL index; `command`
    /// names the command in errors ("fsck", "fsck --rebuild-index").
    static func with<T>(
        _ configuration: DepotConfiguration, command: String, logger: Logger,
        _ body: (any PackMaintenanceStore, PostgresIndex) throws -> T
    ) throws -> T {
        guard var cluster = configuration.cluster, ClusterIndexSetup.sharesIndex(cluster) else {
            throw ServerError.startup("\(command) in cluster mode needs cluster.index and cluster.chunks")
        }
        var template = Array("/tmp/depot-\(command.filter(\.isLetter))-cache-XXXXXX".utf8CString)
        guard template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) != nil else {
            throw ServerError.startup("\(command): cannot make a temporary directory for its read cache")
        }
        let cacheDirectory = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        defer { removeDirectory(cacheDirectory) }
        cluster.cache = ClusterChunkCache(path: cacheDirectory, size: ClusterChunkCache.minimumSize)
        var engineConfiguration = EngineConfiguration(dataDirectory: cacheDirectory)
        try engineConfiguration.chooseChunkStore(cluster, logger: logger)
        guard let packs = engineConfiguration.chunkStore as? any PackMaintenanceStore else {
            throw ServerError.startup("\(command): the configured chunk store has no packs")
        }
        return try body(packs, PostgresIndex(location: cluster.index, logger: logger))
    }

    /// Removes the temporary cache directory and the block files in it.
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
