import Glibc
import Synchronization

/// Storage failures that callers map to protocol errors.
public enum StorageError: Error, CustomStringConvertible, Sendable {
    case noSpace
    case io(String, Int32)
    case corrupt(String)

    public var description: String {
        switch self {
        case .noSpace: return "no space left on the data device"
        case .io(let what, let code): return "\(what): \(String(cString: strerror(code)))"
        case .corrupt(let what): return "corrupt data: \(what)"
        }
    }

    static func fromErrno(_ what: String) -> StorageError {
        let code = errno
        return code == ENOSPC || code == EDQUOT ? .noSpace : .io(what, code)
    }
}

/// The append-only segment files of `<data>/segments/`.
///
/// Appends go to one active segment under a lock, at the tracked end offset, so a failed or short
/// write is simply overwritten by the next record and never leaves a gap in the middle. A new
/// process always starts a fresh segment, so a torn tail from a crash stays at the end of an old
/// file where the scanner stops. Durability is separate from appending: `syncDirty()` (called by
/// the group committer) makes everything appended so far durable with one fdatasync per file.
public final class SegmentStore: Sendable {
    public static let fileHeaderSize = 16
    static let fileMagic: [UInt8] = Array("DPSEG001".utf8)

    public let directory: String
    public let segmentSize: Int
    /// When false, `syncDirty()` drops the synced files' pages from the page cache.
    public let keepsSyncedPagesCached: Bool
    /// Free space that new upload bytes must leave on the device (see `SpaceReserve`).
    public let reserve: SpaceReserve
    /// Upload appends refused for space so far; the space recovery watches it to compact at once.
    public let spaceRefusals = Atomic<Int>(0)
    /// Bytes the ballast file holds (SpaceBallast.swift); they count as free for uploads.
    let ballastHeld = Atomic<Int>(0)
    /// Segments with records whose payload this process discarded (SegmentHoles.swift).
    let punchedSegments = Mutex<Set<UInt32>>([])
    /// Dead records about to be punched: from the moment they are chosen no commit may bring
    /// them back (SegmentHoles.swift).
    let discarding = Mutex<Set<RecordLocation>>([])
    /// Set once the filesystem refused to punch a hole: compaction then only copies.
    public let cannotPunchHoles = Atomic<Bool>(false)

    private struct State {
        var files: [UInt32: Int32] = [:]
        var activeId: UInt32 = 0
        var activeSize = 0
        /// The active segment's file is created on the first append, so opening a store on a
        /// full disk (to read, or to run fsck) writes nothing.
        var activeCreated = false
        /// Files with appends not yet synced, each with the offset of its first unsynced byte.
        var dirty: [UInt32: Int] = [:]
    }

    private let state: Mutex<State>
    /// The page cache that reads fill, held to a budget (ReadCacheBudget.swift), unless synced
    /// pages are kept cached (`keepsSyncedPagesCached`): then reads keep theirs too.
    private let readCache: Mutex<ReadCacheBudget>

    /// The page cache's unit, for dropping only whole synced pages (`syncDirty`).
    private static let pageSize = max(4096, Int(sysconf(Int32(_SC_PAGESIZE))))

    /// Opens the directory and starts a new active segment after the highest existing one.
    public init(
        directory: String, segmentSize: Int, keepsSyncedPagesCached: Bool = false, reserve: SpaceReserve = .automatic,
        readCacheBytes: Int? = nil
    ) throws {
        readCache = Mutex(ReadCacheBudget(bytes: readCacheBytes ?? ReadCacheBudget.defaultBytes()))
        self.directory = directory
        self.reserve = reserve
        self.segmentSize = max(segmentSize, 1 << 20)
        self.keepsSyncedPagesCached = keepsSyncedPagesCached
        PrivateFiles.makeDirectory(directory)
        var st = State()
        let existing = Self.listSegmentIds(directory)
        for id in existing {
            let fd = open(Self.path(directory, id), O_RDWR | O_CLOEXEC)
            guard fd >= 0 else { throw StorageError.fromErrno("open segment \(id)") }
            st.files[id] = fd
        }
        st.activeId = (existing.last ?? 0) + 1
        state = Mutex(st)
    }

    deinit {
        state.withLock { st in
            for fd in st.files.values { close(fd) }
        }
    }

    static func path(_ directory: String, _ id: UInt32) -> String {
        var name = String(id)
        while name.count < 8 { name = "0" + name }
        return "\(directory)/\(name).seg"
    }

    public func path(of id: UInt32) -> String { Self.path(directory, id) }

    /// Segment ids found on disk, ascending.
    public static func listSegmentIds(_ directory: String) -> [UInt32] {
        guard let dir = opendir(directory) else { return [] }
        defer { closedir(dir) }
        var ids: [UInt32] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(cString: raw.baseAddress!.assumingMemoryBound(to: CChar.self))
            }
            if name.hasSuffix(".seg"), let id = UInt32(name.dropLast(4)) { ids.append(id) }
        }
        return ids.sorted()
    }

    private static func createSegment(_ st: inout State, directory: String) throws {
        let id = st.activeId
        let fd = PrivateFiles.open(path(directory, id), O_RDWR | O_EXCL)
        guard fd >= 0 else { throw StorageError.fromErrno("create segment \(id)") }
        var header = fileMagic
        withUnsafeBytes(of: id.littleEndian) { header.append(contentsOf: $0) }
        header += [0, 0, 0, 0]
        let written = header.withUnsafeBytes { pwrite(fd, $0.baseAddress, $0.count, 0) }
        guard written == fileHeaderSize else {
            let error = StorageError.fromErrno("write segment header \(id)")
            close(fd)
            unlink(path(directory, id))
            throw error
        }
        // The new file's directory entry must be durable too before records in it are relied on.
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY)
        if dirfd >= 0 {
            fsync(dirfd)
            close(dirfd)
        }
        st.files[id] = fd
        st.activeSize = fileHeaderSize
        st.activeCreated = true
        st.dirty[id] = 0
    }

    public var activeSegmentId: UInt32 { state.withLock { $0.activeId } }

    public var segmentIds: [UInt32] { state.withLock { $0.files.keys.sorted() } }

    /// Appends one record and returns where it landed. Rolls to a new segment when the active one
    /// would pass the size limit.
    public func append(
        kind: RecordKind, sequence: UInt64 = 0, hash: [UInt8] = [], payload: UnsafeRawBufferPointer
    ) throws -> RecordLocation {
        try append(kind: kind, sequence: sequence, hash: hash, pieces: [payload])
    }

    /// Appends one record whose payload is `pieces` in order, written with one `pwritev` straight
    /// from where they are (a chunk as it arrived in network buffers: StreamingChunker).
    public func append(
        kind: RecordKind, sequence: UInt64 = 0, hash: [UInt8] = [], pieces: [UnsafeRawBufferPointer]
    ) throws -> RecordLocation {
        let header = RecordHeader.encode(kind: kind, sequence: sequence, hash: hash, pieces: pieces)
        let length = pieces.reduce(0) { $0 + $1.count }
        let total = header.count + length
        return try state.withLock { st in
            if !st.activeCreated { try Self.createSegment(&st, directory: directory) }
            if st.activeSize + total > segmentSize && st.activeSize > Self.fileHeaderSize {
                st.activeId += 1
                st.activeCreated = false
                try Self.createSegment(&st, directory: directory)
            }
            guard let fd = st.files[st.activeId] else { throw StorageError.io("active segment missing", EIO) }
            let offset = st.activeSize
            try Self.writeAll(fd: fd, header: header, pieces: pieces, offset: offset)
            st.activeSize += total
            if st.dirty[st.activeId] == nil { st.dirty[st.activeId] = offset }
            return RecordLocation(segment: st.activeId, offset: UInt64(offset), length: UInt32(length))
        }
    }

    private static func writeAll(fd: Int32, header: [UInt8], pieces: [UnsafeRawBufferPointer], offset: Int) throws {
        try header.withUnsafeBytes { h in
            var iov = [iovec(iov_base: UnsafeMutableRawPointer(mutating: h.baseAddress), iov_len: h.count)]
            iov.reserveCapacity(pieces.count + 1)
            for piece in pieces where piece.count > 0 {
                iov.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: piece.baseAddress), iov_len: piece.count))
            }
            precondition(iov.count <= 1024, "more pieces than pwritev takes (IOV_MAX)")
            var done = 0
            let total = iov.reduce(0) { $0 + $1.iov_len }
            var first = 0
            while done < total {
                let n = iov.withUnsafeMutableBufferPointer {
                    pwritev(fd, $0.baseAddress! + first, Int32($0.count - first), off_t(offset + done))
                }
                if n < 0 {
                    if errno == EINTR { continue }
                    throw StorageError.fromErrno("append to segment")
                }
                if n == 0 { throw StorageError.noSpace }
                done += n
                // Advance the iovecs past what was written (short writes are rare but legal).
                var skip = n
                while skip > 0 && first < iov.count {
                    let take = min(skip, iov[first].iov_len)
                    iov[first].iov_base = iov[first].iov_base.map { $0 + take }
                    iov[first].iov_len -= take
                    skip -= take
                    if iov[first].iov_len == 0 { first += 1 }
                }
            }
        }
    }

    /// Makes every record appended so far durable. Returns the number of files synced.
    @discardableResult
    public func syncDirty() throws -> Int {
        // The active segment's end as this sync finds it (appends write under the lock): pages
        // from there on belong to the next sync.
        let targets: [(id: UInt32, fd: Int32, syncedFrom: Int, activeEnd: Int?)] = state.withLock { st in
            let list = st.dirty.compactMap { id, from in
                st.files[id].map { (id, $0, from, id == st.activeId ? st.activeSize : nil) }
            }
            st.dirty.removeAll()
            return list
        }
        for (id, fd, from, _) in targets where fdatasync(fd) != 0 {
            let error = StorageError.fromErrno("fdatasync segment \(id)")
            // After a failed sync the page-cache state is unknown: stop appending to that file.
            state.withLock { st in
                st.dirty[id] = from
                if st.activeId == id {
                    st.activeId += 1
                    st.activeCreated = false
                }
            }
            throw error
        }
        if !keepsSyncedPagesCached {
            // Durable pages are clean now; dropping them lets the next appends reuse the same
            // memory instead of growing the cache (which cost half the PUT throughput once the
            // cache had grown by a few GB, in Benchmarks/RESULTS.md). Only what this sync made
            // durable is dropped: older pages that readers brought in (or prefetched) stay.
            //
            // The active segment keeps the page its end is in: the next append writes into that
            // page, and had it been dropped, the kernel would read it back from the disk first (a
            // synchronous read per commit batch; perf of 8 streams of 4 KiB PUTs showed that read
            // and this call at about 5% of the server's CPU). Pages appended after this
            // sync's snapshot are left alone too (dropping "to the end of the file" also started
            // their writeback). A sealed segment is dropped to its end.
            for target in targets {
                Self.dropPages(target.fd, from: target.syncedFrom, to: nil, activeEnd: target.activeEnd)
            }
        }
        return targets.count
    }

    /// The data device's free and total bytes.
    public func deviceSpace() -> DeviceSpace? { DeviceSpace.of(path: directory) }

    /// The reserve in bytes on this device.
    public func reserveBytes(_ space: DeviceSpace? = nil) -> UInt64 {
        (space ?? deviceSpace()).map { reserve.bytes(ofDevice: $0.total) } ?? 0
    }

    /// Refuses (with `.noSpace`) new upload bytes that would eat into the reserve. Appends of
    /// deletes and compaction do not ask, so they may use it.
    public func ensureRoomForUpload(bytes: Int) throws {
        guard let space = deviceSpace() else { return }
        let needed = UInt64(bytes + RecordHeader.size) + reserveBytes(space)
        if space.free + UInt64(ballastHeld.load(ordering: .relaxed)) < needed {
            spaceRefusals.add(1, ordering: .relaxed)
            throw StorageError.noSpace
        }
    }

    /// Bytes appended by uploads dropped before their commit; the space recovery compacts when
    /// it grows.
    public let abandonedBytes = Atomic<Int>(0)

    /// Records what an upload dropped before its commit appended, per segment. When that is most
    /// of the active segment, the segment is sealed (the next append starts a new one) so that
    /// compaction, which leaves the active segment alone, can reclaim it now rather than after
    /// the segment fills.
    public func noteAbandoned(_ bytesBySegment: [UInt32: Int]) {
        abandonedBytes.add(bytesBySegment.values.reduce(0, +), ordering: .relaxed)
        state.withLock { st in
            guard st.activeCreated, let bytes = bytesBySegment[st.activeId], bytes >= 1 << 20, bytes * 2 >= st.activeSize
            else { return }
            st.activeId += 1
            st.activeCreated = false
        }
    }

    /// Starts reading a record's payload into the page cache in the background (readahead).
    public func prefetch(_ location: RecordLocation) {
        guard let fd = state.withLock({ $0.files[location.segment] }) else { return }
        _ = posix_fadvise(fd, off_t(location.payloadOffset), off_t(location.length), Int32(POSIX_FADV_WILLNEED))
    }

    /// Reads `buffer.count` payload bytes of a record, starting `skip` bytes into its payload.
    public func read(_ location: RecordLocation, skip: Int = 0, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let fd = state.withLock({ $0.files[location.segment] }) else {
            throw StorageError.corrupt("segment \(location.segment) is missing")
        }
        var done = 0
        let base = Int(location.payloadOffset) + skip
        while done < buffer.count {
            let n = pread(fd, buffer.baseAddress! + done, buffer.count - done, off_t(base + done))
            if n < 0 {
                if errno == EINTR { continue }
                throw StorageError.fromErrno("read segment \(location.segment)")
            }
            if n == 0 { throw StorageError.corrupt("segment \(location.segment) ends before \(location)") }
            done += n
        }
        if !keepsSyncedPagesCached, buffer.count >= ReadCacheBudget.smallestCountedRead {
            let range = ReadCacheBudget.Range(segment: location.segment, offset: base, length: buffer.count)
            let dropped = readCache.withLock { $0.note(range) }
            if !dropped.isEmpty { dropFromPageCache(dropped) }
        }
    }

    /// Drops read ranges from the page cache (`dropPages`).
    private func dropFromPageCache(_ ranges: [ReadCacheBudget.Range]) {
        for range in ranges {
            let found = state.withLock { st in
                st.files[range.segment].map { ($0, range.segment == st.activeId ? st.activeSize : nil) }
            }
            guard let (fd, activeEnd) = found else { continue }
            Self.dropPages(fd, from: range.offset, to: range.offset + range.length, activeEnd: activeEnd)
        }
    }

    /// Drops a file's pages from `from` up to `to` (nil: the file's end) out of the page cache,
    /// except, in the active segment (`activeEnd` given), the page its end is in and anything
    /// after: the next append writes into that page, and had it been dropped, the kernel would
    /// read it back from the disk first (see `syncDirty`).
    private static func dropPages(_ fd: Int32, from: Int, to: Int?, activeEnd: Int?) {
        var end = to
        if let activeEnd {
            let kept = activeEnd / pageSize * pageSize
            end = min(end ?? kept, kept)
        }
        if let end, end <= from { return }
        _ = posix_fadvise(fd, off_t(from), off_t(end.map { $0 - from } ?? 0), Int32(POSIX_FADV_DONTNEED))
    }

    public func readPayload(_ location: RecordLocation) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: Int(location.length)) { buffer, count in
            try read(location, into: UnsafeMutableRawBufferPointer(buffer))
            count = Int(location.length)
        }
    }

    /// Deletes a segment file that compaction has emptied.
    public func remove(_ id: UInt32) {
        let fd: Int32? = state.withLock { st in
            guard id != st.activeId else { return nil }
            st.dirty.removeValue(forKey: id)
            return st.files.removeValue(forKey: id)
        }
        if let fd {
            close(fd)
            unlink(path(of: id))
        }
    }

    func fileDescriptor(_ id: UInt32) -> Int32? { state.withLock { $0.files[id] } }

    public func size(of id: UInt32) -> Int {
        guard let fd = state.withLock({ $0.files[id] }) else { return 0 }
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_size) : 0
    }
}
