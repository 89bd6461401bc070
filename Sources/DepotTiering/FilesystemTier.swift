import CDepotSystem
import DepotConfig
import DepotEngine
import DepotHashing
import Glibc

/// A mounted path (NAS, NFS, a USB disk). Each object is written to a temporary name, fsynced,
/// then renamed into place, so a reader of the share never sees half a recording. Metadata goes
/// into `user.*` extended attributes, so it travels with the file.
public struct FilesystemTier: TierClient {
    public let settings: TierSettings

    public init(settings: TierSettings) { self.settings = settings }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        guard !remote.split(separator: "/").contains("..") else { throw TierError("refusing a key with '..': \(remote)") }
        let target = settings.path + "/" + remote
        try makeParents(of: target)
        let temporary = target + ".depot-partial-" + Hex.encode(secureRandomBytes(4))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TierError("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            let md5 = StreamingDigest(.md5)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            let limiter = BandwidthLimiter.current
            for piece in reader.plan(0..<reader.record.size) {
                try await limiter?.take(piece.count)
                try buffer.withUnsafeMutableBytes { out in
                    let slice = UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count])
                    try reader.read(piece, into: slice)
                    md5.update(UnsafeRawBufferPointer(slice))
                    var done = 0
                    while done < piece.count {
                        let n = write(fd, slice.baseAddress! + done, piece.count - done)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw TierError("writing \(temporary): \(String(cString: strerror(errno)))") }
                        done += n
                    }
                }
            }
            let digest = Hex.encode(md5.finalize())
            if !reader.record.etag.contains("-") && digest != reader.record.etag {
                throw TierError("copy of \(bucket)/\(key) does not match its MD5")
            }
            setAttribute(fd, "user.depot.etag", reader.record.etag)
            setAttribute(fd, "user.depot.content-type", reader.record.contentType)
            for (name, value) in reader.record.userMetadata { setAttribute(fd, "user.meta." + name, value) }
            guard fsync(fd) == 0 else { throw TierError("fsync \(temporary): \(String(cString: strerror(errno)))") }
            close(fd)
            closed = true
            guard rename(temporary, target) == 0 else {
                throw TierError("rename to \(target): \(String(cString: strerror(errno)))")
            }
            syncDirectory(of: target)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let path = settings.path + "/" + settings.remoteKey(bucket: bucket, key: key)
        return AsyncThrowingStream { continuation in
            let fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else {
                continuation.finish(throwing: TierError("opening \(path): \(String(cString: strerror(errno)))"))
                return
            }
            var offset = range.lowerBound
            while offset < range.upperBound {
                let count = Int(min(UInt64(1 << 20), range.upperBound - offset))
                var buffer = [UInt8](repeating: 0, count: count)
                let n = pread(fd, &buffer, count, off_t(offset))
                guard n > 0 else {
                    close(fd)
                    continuation.finish(throwing: TierError("reading \(path) at \(offset): short file"))
                    return
                }
                continuation.yield(Array(buffer.prefix(n)))
                offset += UInt64(n)
            }
            close(fd)
            continuation.finish()
        }
    }

    public func delete(bucket: String, key: String) async throws {
        let target = settings.path + "/" + settings.remoteKey(bucket: bucket, key: key)
        if unlink(target) != 0 && errno != ENOENT {
            throw TierError("deleting \(target): \(String(cString: strerror(errno)))")
        }
    }

    public func check() async throws {
        let probe = settings.path + "/.depot-probe-" + Hex.encode(secureRandomBytes(4))
        let bytes = Array("depot tier check".utf8)
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw TierError("cannot write in \(settings.path): \(String(cString: strerror(errno)))") }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        defer { unlink(probe) }
        guard written == bytes.count else { throw TierError("short write in \(settings.path)") }
        var back = [UInt8](repeating: 0, count: bytes.count)
        let rfd = open(probe, O_RDONLY | O_CLOEXEC)
        guard rfd >= 0, read(rfd, &back, back.count) == bytes.count, back == bytes else {
            if rfd >= 0 { close(rfd) }
            throw TierError("cannot read back the probe in \(settings.path)")
        }
        close(rfd)
    }

    private func makeParents(of path: String) throws {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/").dropLast() {
            current += "/" + component
            if mkdir(current, 0o755) != 0 && errno != EEXIST {
                throw TierError("cannot create directory \(current): \(String(cString: strerror(errno)))")
            }
        }
    }

    private func setAttribute(_ fd: Int32, _ name: String, _ value: String) {
        // Best effort: not every file system keeps user attributes.
        _ = Array(value.utf8).withUnsafeBytes { fsetxattr(fd, name, $0.baseAddress, $0.count, 0) }
    }

    private func syncDirectory(of path: String) {
        guard let slash = path.lastIndex(of: "/") else { return }
        let dfd = open(String(path[..<slash]), O_RDONLY | O_DIRECTORY)
        if dfd >= 0 {
            fsync(dfd)
            close(dfd)
        }
    }
}
