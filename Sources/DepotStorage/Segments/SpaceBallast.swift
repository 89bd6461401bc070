import Glibc
import Synchronization

/// A preallocated file inside the reserve, given back when a delete meets a device that is full
/// to the last byte (something else filled it, or the reserve was used up): removing it frees
/// room for the delete's log record and index pages, and for compaction to drop dead segments.
/// The server makes it again once there is room (never an offline command: they write nothing
/// on a full device).
extension SegmentStore {
    public var ballastPath: String { directory + "/reserve.ballast" }

    public var ballastBytes: Int { ballastHeld.load(ordering: .relaxed) }

    /// Half the reserve, at most 16 MiB.
    func ballastSize(_ space: DeviceSpace) -> Int {
        Int(min(reserveBytes(space) / 2, 16 << 20))
    }

    /// Makes the ballast when it is missing and fits beside the rest of the reserve.
    public func refillBallast() {
        guard ballastHeld.load(ordering: .relaxed) == 0, let space = deviceSpace() else { return }
        let size = ballastSize(space)
        guard size >= 64 << 10, space.free >= reserveBytes(space) + UInt64(size) else { return }
        let fd = PrivateFiles.open(ballastPath, O_RDWR | O_TRUNC)
        guard fd >= 0 else { return }
        defer { close(fd) }
        if posix_fallocate(fd, 0, off_t(size)) != 0 {
            unlink(ballastPath)
            return
        }
        fsync(fd)
        ballastHeld.store(size, ordering: .relaxed)
    }

    /// Removes the ballast; true when it held space that is free now.
    @discardableResult
    public func releaseBallast() -> Bool {
        let held = ballastHeld.exchange(0, ordering: .relaxed)
        return unlink(ballastPath) == 0 || held > 0
    }
}
