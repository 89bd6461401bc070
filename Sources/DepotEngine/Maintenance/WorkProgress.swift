import Glibc

/// How far a long maintenance job (fsck, an index rebuild, compaction) has come, for the
/// command's progress display: what it is doing, how many items and bytes it has done, and the
/// bytes it has to do in all (0 when unknown).
public struct WorkProgress: Sendable, Equatable {
    public var phase: String
    public var count: Int
    /// What `count` counts ("records", "objects", "segments").
    public var unit: String
    public var bytes: UInt64
    public var totalBytes: UInt64

    public init(phase: String, count: Int, unit: String, bytes: UInt64 = 0, totalBytes: UInt64 = 0) {
        self.phase = phase
        self.count = count
        self.unit = unit
        self.bytes = bytes
        self.totalBytes = totalBytes
    }

    /// Bytes of the segment files `ids` under `directory` (what a scan of them reads).
    static func segmentBytes(_ paths: [String]) -> UInt64 {
        paths.reduce(UInt64(0)) { total, path in
            var info = stat()
            return total + (stat(path, &info) == 0 ? UInt64(max(0, info.st_size)) : 0)
        }
    }
}
