import DepotConfig
import DepotEngine
import Glibc
import Logging
import ServiceLifecycle

/// Where a reload reads the configuration from: the file given to `depot serve --config` (or the
/// embedded default), with the command line's overrides applied again each time.
public struct ConfigurationSource: Sendable {
    /// The file to watch for changes; nil for the embedded default.
    public let path: String?
    public let load: @Sendable () throws -> DepotConfiguration

    public init(path: String?, load: @escaping @Sendable () throws -> DepotConfiguration) {
        self.path = path
        self.load = load
    }
}

/// Settings that only take effect at start: a reload that changes them keeps the running values
/// and says so, rather than half-applying them (a new data directory under a running engine).
extension DepotConfiguration {
    func restartOnlyChanges(from old: DepotConfiguration) -> [String] {
        var changed: [String] = []
        if server.address != old.server.address { changed.append("server.address") }
        if server.tls != old.server.tls { changed.append("server.tls") }
        if server.region != old.server.region { changed.append("server.region") }
        if server.domain != old.server.domain { changed.append("server.domain") }
        if server.maxObjectSize != old.server.maxObjectSize { changed.append("server.maxObjectSize") }
        // The log handlers are made once, at start.
        if server.logLevel != old.server.logLevel { changed.append("server.logLevel") }
        if storage.data != old.storage.data { changed.append("storage.data") }
        if storage.chunking != old.storage.chunking { changed.append("storage.chunking") }
        if storage.segmentSize != old.storage.segmentSize { changed.append("storage.segmentSize") }
        if storage.cacheWrittenData != old.storage.cacheWrittenData { changed.append("storage.cacheWrittenData") }
        return changed
    }

    /// This configuration with the restart-only settings taken from `old`.
    func keepingRestartOnlySettings(of old: DepotConfiguration) -> DepotConfiguration {
        var merged = self
        merged.server = old.server
        // Read at every request: a reload turns the access log on, to errors only or off at once.
        merged.server.accessLog = server.accessLog
        merged.storage.data = old.storage.data
        merged.storage.chunking = old.storage.chunking
        merged.storage.segmentSize = old.storage.segmentSize
        merged.storage.cacheWrittenData = old.storage.cacheWrittenData
        return merged
    }
}

/// Reloads the configuration when its file changes. It compares the file's identity, size and
/// modification time every two seconds: editors that write a new file and rename it over the old
/// one, and configuration management tools that rewrite it in place, are both seen, which a
/// watch on the file's inode alone would miss.
struct ConfigurationWatcher: Service {
    let path: String
    let reload: @Sendable (String) async -> Void
    var interval: Duration = .seconds(2)

    struct Stamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modified: Int64
    }

    static func stamp(_ path: String) -> Stamp? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return Stamp(
            device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
            modified: Int64(info.st_mtim.tv_sec) * 1_000_000_000 + Int64(info.st_mtim.tv_nsec))
    }

    func run() async throws {
        var last = Self.stamp(path)
        while await pauseUnlessShuttingDown(interval) {
            let now = Self.stamp(path)
            // A file that is missing for a moment (mid-rename) is not a change to act on.
            guard let now, now != last else { continue }
            last = now
            await reload("\(path) changed")
        }
    }
}
