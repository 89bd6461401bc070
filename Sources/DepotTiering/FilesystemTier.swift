import CDepotSystem
import DepotConfig
import DepotEngine
import DepotHashing
import Glibc

/// A mounted path (NAS, NFS, a USB disk). Each object is written to a temporary name, fsynced,
/// then renamed into place, so a reader of the share never sees half a recording. Metadata goes
/// into `user.*` extended attributes, so it travels with the file. Keys map to paths as
/// `FilesystemKeyMapping` says (`..` and `.` segments escaped, never refused).
public struct FilesystemTier: TierClient {
    public let settings: TierSettings

    public init(settings: TierSettings) { self.settings = settings }

    /// The object's file under the tier's directory.
    func filePath(bucket: String, key: String) throws -> String {
        settings.path + "/" + (try FilesystemKeyMapping.relativePath(settings.remoteKey(bucket: bucket, key: key)))
    }

    /// The failure of a system call, from `errno`: permanent when it is about this one object's
    /// name or size (the tier itself works), the tier's trouble otherwise (full, read-only,
    /// unmounted, I/O error).
    private func systemError(_ what: String) -> TierError {
        let code = errno
        let permanent = [ENAMETOOLONG, EISDIR, ENOTDIR, EFBIG, EILSEQ].contains(code)
        return TierError("\(what): \(String(cString: strerror(code)))", permanent: permanent)
    }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let target = try filePath(bucket: bucket, key: key)
        try makeParents(of: target)
        let temporary = target + ".depot-partial-" + Hex.encode(secureRandomBytes(4))
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw systemError("cannot create \(temporary)") }
        var closed = false
        defer {
            if !closed { close(fd) }
        }
        do {
            let md5 = StreamingDigest(.md5)
            var buffer = [UInt8](repeating: 0, count: 1 << 20)
            let limiter = BandwidthLimiter.current
            var written: UInt64 = 0
            // Local chunks, or the tier that holds an evicted object: never nothing.
            for try await piece in try reader.bytes(0..<reader.record.size) {
                try await limiter?.take(piece.count)
                if piece.count > buffer.count { buffer = [UInt8](repeating: 0, count: piece.count) }
                written += UInt64(piece.count)
                try buffer.withUnsafeMutableBytes { out in
                    let slice = UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count])
                    try piece.copy(into: slice)
                    md5.update(UnsafeRawBufferPointer(slice))
                    var done = 0
                    while done < piece.count {
                        let n = write(fd, slice.baseAddress! + done, piece.count - done)
                        if n < 0 && errno == EINTR { continue }
                        guard n > 0 else { throw systemError("writing \(temporary)") }
                        done += n
                    }
                }
            }
            // A multipart ETag is no MD5 of the bytes, so the size is the check every copy gets.
            guard written == reader.record.size else {
                throw TierError("copy of \(bucket)/\(key) has \(written) of its \(reader.record.size) bytes")
            }
            let digest = Hex.encode(md5.finalize())
            if !reader.record.etag.contains("-") && digest != reader.record.etag {
                throw TierError("copy of \(bucket)/\(key) does not match its MD5")
            }
            setAttribute(fd, "user.depot.etag", reader.record.etag)
            setAttribute(fd, "user.depot.content-type", reader.record.contentType)
            for (name, value) in reader.record.replicatedMetadata { setAttribute(fd, "user.meta." + name, value) }
            guard fsync(fd) == 0 else { throw TierError("fsync \(temporary): \(String(cString: strerror(errno)))") }
            close(fd)
            closed = true
            guard rename(temporary, target) == 0 else { throw systemError("rename to \(target)") }
            syncDirectory(of: target)
        } catch {
            unlink(temporary)
            throw error
        }
    }

    /// Reads the range 1 MiB at a time as the consumer asks for it (the file is opened on the
    /// first request, and nothing is read ahead of the reader). A file shorter than the range
    /// fails the stream: it is a damaged copy, not a short object.
    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let path: String
        do {
            path = try filePath(bucket: bucket, key: key)
        } catch {
            return AsyncThrowingStream { $0.finish(throwing: error) }
        }
        let file = RangeFile(path: path, range: range)
        return AsyncThrowingStream(unfolding: { try file.next() })
    }

    public func delete(bucket: String, key: String) async throws {
        // A key no file could be written for has no copy to delete.
        guard let target = try? filePath(bucket: bucket, key: key) else { return }
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
            if mkdir(current, 0o755) != 0 && errno != EEXIST { throw systemError("cannot create directory \(current)") }
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

/// One download's open file and position; used by one consumer at a time.
private final class RangeFile: @unchecked Sendable {
    let path: String
    let range: Range<UInt64>
    private var fd: Int32 = -1
    private var offset: UInt64

    init(path: String, range: Range<UInt64>) {
        self.path = path
        self.range = range
        self.offset = range.lowerBound
    }

    deinit { if fd >= 0 { close(fd) } }

    func next() throws -> [UInt8]? {
        guard offset < range.upperBound else { return nil }
        if fd < 0 {
            fd = open(path, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw TierError("opening \(path): \(String(cString: strerror(errno)))") }
        }
        let count = Int(min(UInt64(1 << 20), range.upperBound - offset))
        var buffer = [UInt8](repeating: 0, count: count)
        var n: Int
        repeat { n = pread(fd, &buffer, count, off_t(offset)) } while n < 0 && errno == EINTR
        guard n > 0 else {
            throw TierError("reading \(path) at \(offset): " + (n < 0 ? String(cString: strerror(errno)) : "short file"))
        }
        offset += UInt64(n)
        return n == count ? buffer : Array(buffer.prefix(n))
    }
}
