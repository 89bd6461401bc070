import Glibc
import Synchronization

/// Freeing the space of dead records without copying anything: the record's payload blocks are
/// given back to the filesystem (`fallocate(PUNCH_HOLE | KEEP_SIZE)`), so every offset in the file
/// stays valid and a full device can still free space. Before punching, the record's header is
/// marked "payload discarded" (one byte, so it cannot tear) and scans skip it by its length
/// instead of stopping at its now-failing CRC.
extension SegmentStore {
    /// Bit of the header's flags byte (offset 5) marking a record whose payload was discarded.
    public static let discardedFlag: UInt8 = 1
    static let flagsOffset = 5
    static let punchHoleKeepSize: Int32 = 0x02 | 0x01  // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE
    static let block = 4096

    /// glibc's `fallocate(2)` wrapper; Swift's Glibc module does not declare it (it needs
    /// _GNU_SOURCE), so it is looked up by name once.
    static let fallocate: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32)? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "fallocate") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (Int32, Int32, off_t, off_t) -> Int32).self)
    }()

    /// Bytes the file really occupies (holes excluded).
    public func allocatedBytes(of id: UInt32) -> Int {
        guard let fd = fileDescriptor(id) else { return 0 }
        var st = stat()
        return fstat(fd, &st) == 0 ? Int(st.st_blocks) * 512 : 0
    }

    /// Discards a dead record's payload in a sealed segment. Returns the bytes punched (whole
    /// blocks inside the payload), nil when the filesystem cannot punch holes (the caller then
    /// falls back to copying), 0 when no chunk record of that length starts at the location.
    /// The caller guarantees nothing references or reads the record.
    public func discardPayload(_ location: RecordLocation) throws -> Int? {
        guard location.segment != activeSegmentId, let fd = fileDescriptor(location.segment) else { return 0 }
        let start = (Int(location.payloadOffset) + Self.block - 1) / Self.block * Self.block
        let end = (Int(location.payloadOffset) + Int(location.length)) / Self.block * Self.block
        guard end > start else { return 0 }
        var header = [UInt8](repeating: 0, count: RecordHeader.size)
        guard pread(fd, &header, header.count, off_t(location.offset)) == header.count else {
            throw StorageError.fromErrno("read record header in segment \(location.segment)")
        }
        // The caller found the record by its header alone (payload unverified): punch only
        // when the bytes there still are a chunk record of exactly that length, so a wrong
        // location can never make a hole in other records.
        guard let decoded = header.withUnsafeBytes({ RecordHeader.decode($0) }), decoded.kind == .chunk,
            decoded.length == location.length
        else {
            discarding.withLock { _ = $0.remove(location) }
            return 0
        }
        var flags = header[Self.flagsOffset]
        if flags & Self.discardedFlag == 0 {
            flags |= Self.discardedFlag
            guard pwrite(fd, &flags, 1, off_t(Int(location.offset) + Self.flagsOffset)) == 1, fdatasync(fd) == 0 else {
                throw StorageError.fromErrno("mark record discarded in segment \(location.segment)")
            }
        }
        guard let fallocate = Self.fallocate else {
            cannotPunchHoles.store(true, ordering: .relaxed)
            discarding.withLock { $0.removeAll() }
            return nil
        }
        if fallocate(fd, Self.punchHoleKeepSize, off_t(start), off_t(end - start)) != 0 {
            if errno == EOPNOTSUPP || errno == ENOSYS {
                // The record stays marked (it is dead; scans step over it); the others chosen
                // with it keep their bytes and may be referenced again.
                cannotPunchHoles.store(true, ordering: .relaxed)
                discarding.withLock { $0.removeAll() }
                return nil
            }
            throw StorageError.fromErrno("punch a hole in segment \(location.segment)")
        }
        discarding.withLock { _ = $0.remove(location) }  // its header says so from now on
        return end - start
    }

    /// Chooses dead records for punching: from now on `wasDiscarded` holds for them, so no
    /// commit references them again.
    public func markDiscarding(_ locations: [RecordLocation]) {
        punchedSegments.withLock { $0.formUnion(locations.map(\.segment)) }
        discarding.withLock { $0.formUnion(locations) }
    }

    /// Takes back a choice whose commit failed.
    public func unmarkDiscarding(_ locations: [RecordLocation]) {
        discarding.withLock { $0.subtract(locations) }
    }

    /// Whether a record's payload was discarded or is about to be. Only segments this process punched are read,
    /// so the check costs nothing on the usual commit path.
    public func wasDiscarded(_ location: RecordLocation) -> Bool {
        if discarding.withLock({ $0.contains(location) }) { return true }
        guard punchedSegments.withLock({ $0.contains(location.segment) }), let fd = fileDescriptor(location.segment)
        else { return false }
        var flags: UInt8 = 0
        return pread(fd, &flags, 1, off_t(Int(location.offset) + Self.flagsOffset)) == 1 && flags & Self.discardedFlag != 0
    }
}
