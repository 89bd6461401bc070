import Glibc

/// Free space kept on the data device for what frees space: deletes, the commits of deletes and
/// compaction may use it, new upload bytes may not. Without it a full device could not even take
/// the log record of a delete, and compaction had no room to copy live records out of a segment.
public enum SpaceReserve: Sendable, Equatable, CustomStringConvertible {
    /// The smaller of 1% of the device and 256 MiB (`storage.reserve` unset).
    case automatic
    case bytes(UInt64)
    /// A share of the device's size, 0...0.5 (`storage.reserve: 2%`).
    case fraction(Double)

    public static let automaticCap: UInt64 = 256 << 20

    /// The reserve in bytes on a device of `total` bytes.
    public func bytes(ofDevice total: UInt64) -> UInt64 {
        switch self {
        case .automatic: return min(total / 100, Self.automaticCap)
        case .bytes(let n): return n
        case .fraction(let f): return UInt64(Double(total) * f)
        }
    }

    public var description: String {
        switch self {
        case .automatic: return "min(1%, 256MiB)"
        case .bytes(let n): return "\(n) bytes"
        case .fraction(let f): return "\(f * 100)%"
        }
    }
}

/// What `statvfs` says about the device a path lives on, as `df` shows it: `free` is what an
/// unprivileged writer may still use.
public struct DeviceSpace: Sendable, Equatable {
    public var free: UInt64
    public var total: UInt64

    public init(free: UInt64, total: UInt64) {
        self.free = free
        self.total = total
    }

    /// nil when the path cannot be examined (it is then not refused for space here; the write
    /// itself reports ENOSPC).
    public static func of(path: String) -> DeviceSpace? {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return nil }
        let unit = UInt64(info.f_frsize)
        return DeviceSpace(free: UInt64(info.f_bavail) * unit, total: UInt64(info.f_blocks) * unit)
    }
}
