import DepotStorage
import Dispatch
import Glibc
import Logging
import NIOCore

/// The local disk cache of pack bytes: fixed-size blocks (`cacheBlockSize`) of packs, one file
/// each (`<writer>-<sequence>-<block>.blk`), evicted least recently used first once their sizes
/// pass `cacheSize`.
///
/// Packs never change once stored, so a cached block never goes stale. A block file is written
/// to a temporary name, synced, then renamed: after a crash a block is whole or absent. At
/// start the directory is read back (recency from the files' modification times, leftovers of
/// interrupted writes removed), so the cache survives restarts. Concurrent readers of one block
/// wait for a single fetch; every wait is bounded.
final class PackBlockCache: @unchecked Sendable {
    struct BlockKey: Hashable {
        var pack: PackId
        var index: Int
    }

    /// A fetch in flight, shared by every reader of its block.
    private final class Fetch: @unchecked Sendable {
        var result: Result<[UInt8], Error>?
    }

    let directory: String
    let capacity: Int
    let blockSize: Int
    private let waitSeconds: Double
    private let logger: Logger
    private let monitor = Monitor()
    private let prefetches = DispatchQueue(label: "depot.packs.prefetch", attributes: .concurrent)

    // Guarded by `monitor`.
    private var entries: [BlockKey: (size: Int, lastUse: UInt64)] = [:]
    private var totalBytes = 0
    private var clock: UInt64 = 0
    private var inFlight: [BlockKey: Fetch] = [:]
    private var prefetching = 0

    init(directory: String, capacity: Int, blockSize: Int, waitSeconds: Double, logger: Logger) throws {
        self.directory = directory
        self.capacity = max(0, capacity)
        self.blockSize = max(4096, blockSize)
        self.waitSeconds = waitSeconds
        self.logger = logger
        var made = directory.hasPrefix("/") ? "" : "."
        for part in directory.split(separator: "/") {
            made += "/" + part
            PrivateFiles.makeDirectory(made)
        }
        var probe = stat()
        guard stat(directory, &probe) == 0, probe.st_mode & S_IFMT == S_IFDIR else {
            throw StorageError.fromErrnoText("chunk cache directory \(directory)")
        }
        rebuild()
    }

    var bytesHeld: Int { monitor.withLock { totalBytes } }
    var blockCount: Int { monitor.withLock { entries.count } }

    /// Reads `buffer.count` bytes of `pack` from byte `start`, block by block, from the cache or
    /// through `fetch` (which returns a block's bytes, fewer for a pack's last block).
    func read(
        _ pack: PackId, from start: Int, into buffer: UnsafeMutableRawBufferPointer,
        fetch: @escaping @Sendable (PackId, Range<Int>) throws -> [UInt8]
    ) throws {
        var done = 0
        while done < buffer.count {
            let position = start + done
            let key = BlockKey(pack: pack, index: position / blockSize)
            let inBlock = position - key.index * blockSize
            let count = min(buffer.count - done, blockSize - inBlock)
            let target = UnsafeMutableRawBufferPointer(rebasing: buffer[done..<done + count])
            try readBlock(key, from: inBlock, into: target, fetch: fetch)
            done += count
        }
    }

    /// Starts fetching the blocks of `range` that are neither cached nor on their way (a hint:
    /// skipped when several prefetches already run).
    func prefetch(_ pack: PackId, _ range: Range<Int>, fetch: @escaping @Sendable (PackId, Range<Int>) throws -> [UInt8]) {
        guard !range.isEmpty else { return }
        for index in range.lowerBound / blockSize...(range.upperBound - 1) / blockSize {
            let key = BlockKey(pack: pack, index: index)
            let start: Fetch? = monitor.withLock {
                guard entries[key] == nil, inFlight[key] == nil, prefetching < 4 else { return nil }
                let started = Fetch()
                inFlight[key] = started
                prefetching += 1
                return started
            }
            guard let started = start else { continue }
            prefetches.async { [self] in
                run(started, key, fetch: fetch)
                monitor.withLock { prefetching -= 1 }
            }
        }
    }

    private func readBlock(
        _ key: BlockKey, from offset: Int, into buffer: UnsafeMutableRawBufferPointer,
        fetch: @escaping @Sendable (PackId, Range<Int>) throws -> [UInt8]
    ) throws {
        // A cached file may be evicted between the lookup and the open: then look again.
        for _ in 0..<3 {
            enum Step {
                case cached
                case join(Fetch)
                case run(Fetch)
            }
            let step: Step = monitor.withLock {
                if entries[key] != nil {
                    clock += 1
                    entries[key]!.lastUse = clock
                    return .cached
                }
                if let running = inFlight[key] { return .join(running) }
                let started = Fetch()
                inFlight[key] = started
                return .run(started)
            }
            let bytes: [UInt8]
            switch step {
            case .cached:
                if try readCachedFile(key, from: offset, into: buffer) { return }
                continue
            case .run(let started):
                run(started, key, fetch: fetch)
                bytes = try started.result!.get()
            case .join(let running):
                let deadline = MonotonicDeadline(secondsFromNow: waitSeconds)
                let finished = monitor.withLock { monitor.waitLocked(until: deadline) { running.result != nil } }
                guard finished else {
                    throw PackStoreError(
                        "chunk cache: block \(key.index) of pack \(key.pack) not fetched within \(waitSeconds) s", transient: true
                    )
                }
                bytes = try running.result!.get()
            }
            guard offset + buffer.count <= bytes.count else {
                throw StorageError.corrupt("pack \(key.pack) ends inside block \(key.index), before the record read")
            }
            bytes.withUnsafeBytes {
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[offset..<offset + buffer.count]))
            }
            return
        }
        throw PackStoreError(
            "chunk cache: block \(key.index) of pack \(key.pack) keeps being evicted while read", transient: true)
    }

    /// Fetches a block, keeps it, and hands the result to everyone waiting for it.
    private func run(_ started: Fetch, _ key: BlockKey, fetch: @Sendable (PackId, Range<Int>) throws -> [UInt8]) {
        let result = Result { try fetch(key.pack, key.index * blockSize..<(key.index + 1) * blockSize) }
        var kept = false
        if case .success(let bytes) = result, !bytes.isEmpty, bytes.count <= capacity {
            kept = writeBlockFile(key, bytes)
        }
        monitor.withLock {
            started.result = result
            inFlight[key] = nil
            if kept, case .success(let bytes) = result {
                clock += 1
                if let old = entries[key] { totalBytes -= old.size }
                entries[key] = (bytes.count, clock)
                totalBytes += bytes.count
                evictLocked()
            }
            monitor.broadcast()
        }
    }

    /// Keeps the blocks of a pack this node just stored (write-through): a recording read soon
    /// after it was written (the console's latest clip, an ML worker woken by its event) on the
    /// node that took it is then served from local disk instead of Range GETs of the store.
    /// Blocks already cached or being fetched are left alone; a pack larger than half the cache
    /// is not kept, so one upload never flushes everything readers use.
    func keep(_ pack: PackId, _ bytes: ByteBuffer) {
        guard bytes.readableBytes > 0, bytes.readableBytes <= capacity / 2 else { return }
        let blocks = (bytes.readableBytes + blockSize - 1) / blockSize
        for index in 0..<blocks {
            let key = BlockKey(pack: pack, index: index)
            let wanted = monitor.withLock { entries[key] == nil && inFlight[key] == nil }
            guard wanted else { continue }
            let start = index * blockSize
            let block = bytes.getBytes(at: bytes.readerIndex + start, length: min(blockSize, bytes.readableBytes - start))!
            guard writeBlockFile(key, block) else { return }
            monitor.withLock {
                clock += 1
                if let old = entries[key] { totalBytes -= old.size }
                entries[key] = (block.count, clock)
                totalBytes += block.count
                evictLocked()
            }
        }
    }

    /// Drops every cached block of a pack (compaction deleted it from the store).
    func forget(_ pack: PackId) {
        monitor.withLock {
            for (key, entry) in entries where key.pack == pack {
                entries[key] = nil
                totalBytes -= entry.size
                unlink(path(key))
            }
        }
    }

    private func evictLocked() {
        while totalBytes > capacity, let oldest = entries.min(by: { $0.value.lastUse < $1.value.lastUse }) {
            entries[oldest.key] = nil
            totalBytes -= oldest.value.size
            unlink(path(oldest.key))
        }
    }

    private func path(_ key: BlockKey) -> String {
        "\(directory)/\(PackId.hex8(key.pack.writer))-\(PackId.hex8(key.pack.sequence))-\(key.index).blk"
    }

    /// Reads from a cached block file; false when the file is gone (evicted meanwhile).
    private func readCachedFile(_ key: BlockKey, from offset: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        let fd = open(path(key), O_RDONLY | O_CLOEXEC)
        if fd < 0 {
            if errno == ENOENT {
                monitor.withLock {
                    if let gone = entries.removeValue(forKey: key) { totalBytes -= gone.size }
                }
                return false
            }
            throw StorageError.fromErrnoText("open cached block \(path(key))")
        }
        defer { close(fd) }
        var done = 0
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(offset + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.fromErrnoText("read cached block \(path(key))")
            }
            if n == 0 { throw StorageError.corrupt("pack \(key.pack) ends inside block \(key.index), before the record read") }
            done += n
        }
        return true
    }

    /// Writes a block under a temporary name, syncs it, renames it into place. A failure only
    /// means the block is not kept (logged): the reader has its bytes already.
    private func writeBlockFile(_ key: BlockKey, _ bytes: [UInt8]) -> Bool {
        let final = path(key)
        let temporary = final + ".tmp"
        let fd = PrivateFiles.open(temporary, O_WRONLY | O_TRUNC)
        guard fd >= 0 else {
            logger.warning("chunk cache: cannot create \(temporary): \(String(cString: strerror(errno)))")
            return false
        }
        var ok = bytes.withUnsafeBytes { raw -> Bool in
            var done = 0
            while done < raw.count {
                let n = write(fd, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return false }
                done += n
            }
            return true
        }
        ok = ok && fdatasync(fd) == 0
        close(fd)
        if ok && rename(temporary, final) == 0 { return true }
        logger.warning("chunk cache: cannot keep block \(final): \(String(cString: strerror(errno)))")
        unlink(temporary)
        return false
    }

    /// Reads the directory back: blocks by modification time (oldest first), leftovers removed,
    /// then eviction down to the capacity (which may have shrunk since the last run).
    private func rebuild() {
        guard let dir = opendir(directory) else { return }
        var found: [(key: BlockKey, size: Int, modified: Int)] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name.hasSuffix(".tmp") {
                unlink("\(directory)/\(name)")
                continue
            }
            guard name.hasSuffix(".blk") else { continue }
            let parts = name.dropLast(4).split(separator: "-")
            guard parts.count == 3, let writer = UInt32(parts[0], radix: 16), let sequence = UInt32(parts[1], radix: 16),
                let index = Int(parts[2])
            else { continue }
            var info = stat()
            guard stat("\(directory)/\(name)", &info) == 0, info.st_size > 0 else { continue }
            found.append(
                (BlockKey(pack: PackId(writer: writer, sequence: sequence), index: index), Int(info.st_size), info.st_mtim.tv_sec)
            )
        }
        closedir(dir)
        found.sort { $0.modified < $1.modified }
        monitor.withLock {
            for block in found {
                clock += 1
                entries[block.key] = (block.size, clock)
                totalBytes += block.size
            }
            evictLocked()
        }
        if !found.isEmpty {
            logger.info("chunk cache: \(entries.count) blocks, \(totalBytes) bytes kept from the last run in \(directory)")
        }
    }
}

extension StorageError {
    static func fromErrnoText(_ what: String) -> StorageError {
        let code = errno
        return code == ENOSPC || code == EDQUOT ? .noSpace : .io(what, code)
    }
}
