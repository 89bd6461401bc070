import DepotStorage
import Synchronization

/// The data device's free space and the reserve, as `depot status` and the metrics show them.
public struct SpaceStatus: Sendable {
    public var freeBytes: UInt64
    public var totalBytes: UInt64
    public var reserveBytes: UInt64
    /// Upload bytes refused for space since the server started (counted per refused chunk).
    public var refusals: Int
    /// Part of the reserve held by the ballast file, given back when a delete finds no space.
    public var ballastBytes: Int
    /// Bytes appended by uploads dropped before their commit, since the server started.
    public var abandonedBytes: Int

    /// Free space new uploads may still use.
    public var availableForUploads: UInt64 {
        let usable = freeBytes + UInt64(ballastBytes)
        return usable > reserveBytes ? usable - reserveBytes : 0
    }

    public var json: [String: Any] {
        [
            "freeBytes": Int(freeBytes), "totalBytes": Int(totalBytes), "reserveBytes": Int(reserveBytes),
            "availableForUploadsBytes": Int(availableForUploads), "spaceRefusals": refusals,
            "ballastBytes": ballastBytes, "abandonedUploadBytes": abandonedBytes,
        ]
    }
}

extension Engine {
    /// nil when the data device cannot be examined.
    public func space() -> SpaceStatus? {
        guard let device = store.deviceSpace() else { return nil }
        return SpaceStatus(
            freeBytes: device.free, totalBytes: device.total, reserveBytes: store.reserveBytes(device),
            refusals: store.spaceRefusals.load(ordering: .relaxed), ballastBytes: store.ballastBytes,
            abandonedBytes: store.abandonedBytes.load(ordering: .relaxed))
    }

    /// Bytes of sealed segments that no object references any more: what compaction can free.
    public func deadSegmentBytes() throws -> UInt64 {
        let active = store.activeSegmentId
        var dead: UInt64 = 0
        for id in store.segmentIds where id < active {
            let size = UInt64(min(store.size(of: id), store.allocatedBytes(of: id)))
            dead += size - min(size, try liveBytes(of: id))
        }
        return dead
    }

    /// Makes the space ballast when there is room (the server only; see SpaceBallast.swift).
    public func refillBallast() {
        if segmentMaintenanceApplies("the space reserve's ballast") { store.refillBallast() }
    }

    /// Gives the ballast's space back; true when it held some.
    @discardableResult
    public func releaseBallast() -> Bool { store.releaseBallast() }

    /// Whether an error means the data device is full.
    public static func isNoSpace(_ error: any Error) -> Bool {
        if case .noSpace? = EngineError.wrap(error) as? EngineError { return true }
        return false
    }

    /// Refuses an upload of `bytes` before its body is read when they would eat into the reserve
    /// (the bytes are checked again as they arrive; deduplicated ones may not need the room, but
    /// a near-full device is the wrong place to find out).
    public func ensureRoomForUpload(bytes: UInt64) throws {
        do {
            try dataPathStore.ensureRoomForUpload(bytes: Int(clamping: bytes))
        } catch { throw EngineError.wrap(error) }
    }
}
