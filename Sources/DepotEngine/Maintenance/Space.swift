import DepotStorage
import Synchronization

/// The data device's free space and the reserve, as `depot status` and the metrics show them.
public struct SpaceStatus: Sendable {
    public var freeBytes: UInt64
    public var totalBytes: UInt64
    public var reserveBytes: UInt64
    /// Upload bytes refused for space since the server started (counted per refused chunk).
    public var refusals: Int

    /// Free space new uploads may still use.
    public var availableForUploads: UInt64 { freeBytes > reserveBytes ? freeBytes - reserveBytes : 0 }

    public var json: [String: Any] {
        [
            "freeBytes": Int(freeBytes), "totalBytes": Int(totalBytes), "reserveBytes": Int(reserveBytes),
            "availableForUploadsBytes": Int(availableForUploads), "spaceRefusals": refusals,
        ]
    }
}

extension Engine {
    /// nil when the data device cannot be examined.
    public func space() -> SpaceStatus? {
        guard let device = store.deviceSpace() else { return nil }
        return SpaceStatus(
            freeBytes: device.free, totalBytes: device.total, reserveBytes: store.reserveBytes(device),
            refusals: store.spaceRefusals.load(ordering: .relaxed))
    }

    /// Bytes of sealed segments that no object references any more: what compaction can free.
    public func deadSegmentBytes() throws -> UInt64 {
        let active = store.activeSegmentId
        var dead: UInt64 = 0
        for id in store.segmentIds where id < active {
            let size = UInt64(store.size(of: id))
            dead += size - min(size, try liveBytes(of: id))
        }
        return dead
    }
}
