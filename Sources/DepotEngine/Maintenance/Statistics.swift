import DepotStorage

/// Figures for metrics and `depot status`: what the segments hold and how much of it is live,
/// and how full the index's map is.
public struct StorageStatistics: Sendable {
    public var segments = 0
    /// Bytes in segment files.
    public var segmentBytes: UInt64 = 0
    /// Bytes of records still referenced (chunks and commits): what is stored after dedup.
    public var liveBytes: UInt64 = 0
    public var indexUsedBytes = 0
    public var indexMapBytes = 0
    public var outboxEvents = 0

    public var liveRatio: Double { segmentBytes == 0 ? 1 : Double(liveBytes) / Double(segmentBytes) }
}

extension Engine {
    public func statistics() throws -> StorageStatistics {
        var stats = StorageStatistics()
        for id in store.segmentIds {
            stats.segments += 1
            stats.segmentBytes += UInt64(store.size(of: id))
            stats.liveBytes += try liveBytes(of: id)
        }
        // The map's figures are an LMDB file's own; another index store reports none.
        let usage = lmdbIndexFile?.usage() ?? (used: 0, mapSize: 0)
        stats.indexUsedBytes = usage.used
        stats.indexMapBytes = usage.mapSize
        stats.outboxEvents = outboxCount
        return stats
    }
}
