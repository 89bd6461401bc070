import DepotHashing
import DepotStorage
import Glibc

/// The ingest history (IngestHistory) and each camera's latest recording (LatestRecordings) kept
/// in one small file of the data directory, so a restart does not empty the dashboard's charts,
/// its "days of recording left" or the cameras page. A file rather than an index table: these
/// are figures for pages, not data, and losing the last minute of them in a crash is harmless.
///
/// Layout: magic `DIH1`, the samples (minute, bytes, objects), the named recordings (name,
/// bucket, key, time), then the CRC32C of everything before it. Written whole to a temporary
/// file, synced and renamed over the old one, so a reader sees the old file or the new one. A
/// file that is damaged, too large or of another version is ignored (logged): the figures then
/// start again, as they did before the file existed.
enum IngestHistoryFile {
    static let name = "ingest-history"
    static let magic: [UInt8] = Array("DIH1".utf8)
    /// The largest file read: 1,440 samples and 10,000 cameras with S3's longest keys stay below it.
    static let maximumSize = 24 << 20

    struct Contents {
        var samples: [IngestHistory.Sample]
        var latest: [(name: String, recording: LatestRecordings.Recording)]
    }

    static func encode(_ contents: Contents) -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + contents.samples.count * 12)
        w.raw(magic)
        w.varint(contents.samples.count)
        for sample in contents.samples {
            w.signed(sample.minute)
            w.varint(sample.bytes)
            w.varint(sample.objects)
        }
        w.varint(contents.latest.count)
        for (name, recording) in contents.latest {
            w.string(name)
            w.string(recording.bucket)
            w.string(recording.key)
            w.signed(recording.at)
        }
        var bytes = w.bytes
        let crc = bytes.withUnsafeBytes { CRC32C.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { bytes.append(contentsOf: $0) }
        return bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> Contents {
        guard bytes.count >= magic.count + 4, Array(bytes.prefix(magic.count)) == magic else {
            throw DecodeError("not an ingest history file (no DIH1 header)")
        }
        let body = Array(bytes.dropLast(4))
        let stored = bytes.suffix(4).enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * UInt32($1.offset)) }
        guard body.withUnsafeBytes({ CRC32C.checksum($0) }) == stored else {
            throw DecodeError("checksum mismatch (the file is damaged)")
        }
        return try body.decode { r in
            _ = try r.raw(magic.count)
            let sampleCount = try r.int()
            guard sampleCount <= IngestHistory.slots else {
                throw DecodeError("\(sampleCount) samples, at most \(IngestHistory.slots)")
            }
            var samples: [IngestHistory.Sample] = []
            for _ in 0..<sampleCount {
                samples.append(IngestHistory.Sample(minute: try r.signed(), bytes: try r.varint(), objects: try r.varint()))
            }
            let latestCount = try r.int()
            guard latestCount <= LatestRecordings.capacity * 2 else { throw DecodeError("\(latestCount) recordings, too many") }
            var latest: [(name: String, recording: LatestRecordings.Recording)] = []
            for _ in 0..<latestCount {
                let name = try r.string()
                let recording = LatestRecordings.Recording(bucket: try r.string(), key: try r.string(), at: try r.signed())
                latest.append((name, recording))
            }
            guard r.isAtEnd else { throw DecodeError("\(r.remaining) bytes after the recordings") }
            return Contents(samples: samples, latest: latest)
        }
    }

    /// The file's bytes, or nil when there is none.
    static func read(_ path: String) throws -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            if errno == ENOENT { return nil }
            throw DecodeError("cannot open: \(String(cString: strerror(errno)))")
        }
        defer { close(fd) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw DecodeError("cannot read: \(String(cString: strerror(errno)))")
            }
            if n == 0 { return bytes }
            bytes += buffer[0..<n]
            guard bytes.count <= maximumSize else { throw DecodeError("larger than \(maximumSize) bytes") }
        }
    }

    /// Replaces the file atomically: a temporary file, written and synced, renamed over it, and
    /// the directory synced so the rename itself survives a power cut.
    static func write(_ bytes: [UInt8], directory: String) throws {
        let path = directory + "/" + name
        let temporary = path + ".tmp"
        let fd = PrivateFiles.open(temporary, O_WRONLY | O_TRUNC)
        guard fd >= 0 else { throw EngineError.io("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, $0.count - written) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let problem = String(cString: strerror(errno))
                close(fd)
                unlink(temporary)
                throw EngineError.io("cannot write \(temporary): \(problem)")
            }
            written += n
        }
        guard fsync(fd) == 0 else {
            let problem = String(cString: strerror(errno))
            close(fd)
            unlink(temporary)
            throw EngineError.io("cannot sync \(temporary): \(problem)")
        }
        close(fd)
        guard rename(temporary, path) == 0 else {
            let problem = String(cString: strerror(errno))
            unlink(temporary)
            throw EngineError.io("cannot rename \(temporary) to \(path): \(problem)")
        }
        let directoryFD = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if directoryFD >= 0 {
            _ = fsync(directoryFD)
            close(directoryFD)
        }
    }
}

extension Engine {
    /// A committed object, counted for the console: the ingest history and its camera's latest
    /// recording. Every way an object is uploaded (PUT, multipart, tus) calls this once.
    func recordIngest(bucket: String, key: String, record: ObjectRecord) {
        ingestHistory.record(bytes: record.size, at: Engine.now())
        latestRecordings.record(bucket: bucket, key: key, userMetadata: record.userMetadata, at: record.created)
    }

    /// Reads the file back at start. A damaged file is logged and left to be replaced by the next save.
    func restoreIngestHistory() {
        let path = configuration.dataDirectory + "/" + IngestHistoryFile.name
        do {
            guard let bytes = try IngestHistoryFile.read(path) else { return }
            let contents = try IngestHistoryFile.decode(bytes)
            ingestHistory.restore(contents.samples)
            latestRecordings.restore(contents.latest)
        } catch {
            logger.warning(
                "ignoring \(path): \(error); the dashboard's ingest history and the cameras' last recordings start again")
        }
    }

    /// Writes the ingest history and latest recordings when they changed since the last save
    /// (IngestHistoryKeeper calls it once a minute, `shutdown` once more). Returns whether it wrote.
    @discardableResult
    public func saveIngestHistory() -> Bool {
        ingestHistory.saved.withLock { saved in
            let changes = ingestHistory.changes.load(ordering: .relaxed)
            guard changes != saved else { return false }
            let bytes = IngestHistoryFile.encode(
                IngestHistoryFile.Contents(
                    samples: ingestHistory.recordedSamples(), latest: latestRecordings.entries()))
            do {
                try IngestHistoryFile.write(bytes, directory: configuration.dataDirectory)
                saved = changes
                return true
            } catch {
                logger.error("could not save the ingest history (the next save retries): \(error)")
                return false
            }
        }
    }
}
