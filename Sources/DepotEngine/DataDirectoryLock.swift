import DepotStorage
import Glibc

/// The exclusive lock on a data directory (`depot.lock`, holding the pid of its holder), taken by
/// the engine, the offline index rebuild and the sealing of stored secrets, so that two
/// processes never write the same store.
enum DataDirectoryLock {
    /// How long a lock held by this very process is waited for. Within one process the holder is
    /// an engine being let go (its deinit closes the lock once the last task that holds it ends)
    /// or a child between fork and exec that has not closed its copy of the descriptor yet: both
    /// end by themselves, and on two busy cores they were seen to take longer than an immediate
    /// retry (a parallel test suite failed with "locked by pid <its own pid>"). Another process's
    /// lock is refused at once: a second server must fail fast.
    static let ownHolderWait: Duration = .seconds(5)

    /// Takes the lock; returns its descriptor, which the caller closes to release it.
    static func acquire(_ directory: String) throws -> Int32 {
        let path = directory + "/depot.lock"
        let fd = PrivateFiles.open(path, O_RDWR)
        guard fd >= 0 else { throw EngineError.io("cannot open \(path): \(String(cString: strerror(errno)))") }
        let clock = ContinuousClock()
        let deadline = clock.now + ownHolderWait
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            let holder = self.holder(fd)
            guard holder == String(getpid()), clock.now < deadline else {
                close(fd)
                throw EngineError.dataDirectoryInUse("\(directory) is locked by pid \(holder)")
            }
            usleep(20_000)
        }
        ftruncate(fd, 0)
        let pid = Array(String(getpid()).utf8)
        _ = pid.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        return fd
    }

    private static func holder(_ fd: Int32) -> String {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = pread(fd, &buffer, 32, 0)
        return n > 0 ? String(decoding: buffer.prefix(n), as: UTF8.self) : "unknown"
    }
}
