import Glibc

/// A record found by walking a segment's headers: its payload was neither read nor verified.
public struct WalkedRecord: Sendable {
    public let header: RecordHeader
    public let location: RecordLocation
}

extension SegmentScanner {
    /// Walks a segment's record headers front to back, stepping over the payloads without
    /// reading them: finding dead chunk records this way costs one 56-byte pread per record
    /// instead of reading and CRC-checking every payload (which made hole punching the
    /// server's hottest code under deletes).
    ///
    /// A header alone is not verified (the CRC covers the payload too), and a corrupted length
    /// would make one bogus record span others. So a record is reported only when the walk
    /// continues consistently after it: the next header decodes and fits in the file, or the
    /// record ends exactly at the file's end. The walk stops at the first header that does not
    /// decode; nothing at or after it is reported, and neither is the record before it.
    /// Records whose payload was already discarded are stepped over, not reported.
    public static func headers(path: String, segment: UInt32, _ body: (WalkedRecord) throws -> Void) throws {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.fromErrno("open \(path)") }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw StorageError.fromErrno("stat \(path)") }
        let fileSize = Int(st.st_size)
        var fileHeader = [UInt8](repeating: 0, count: SegmentStore.fileHeaderSize)
        guard pread(fd, &fileHeader, fileHeader.count, 0) == fileHeader.count,
            Array(fileHeader[0..<8]) == SegmentStore.fileMagic
        else { throw StorageError.corrupt("\(path) is not a segment file") }
        var headerBytes = [UInt8](repeating: 0, count: RecordHeader.size)
        /// The record read last, reported once the header after it checks out.
        var pending: (record: WalkedRecord, discarded: Bool)?
        var offset = SegmentStore.fileHeaderSize
        while offset + RecordHeader.size <= fileSize {
            guard pread(fd, &headerBytes, RecordHeader.size, off_t(offset)) == RecordHeader.size,
                let header = headerBytes.withUnsafeBytes({ RecordHeader.decode($0) }),
                offset + RecordHeader.size + Int(header.length) <= fileSize
            else { return }
            if let (record, discarded) = pending, !discarded { try body(record) }
            let location = RecordLocation(segment: segment, offset: UInt64(offset), length: header.length)
            pending = (
                WalkedRecord(header: header, location: location),
                headerBytes[SegmentStore.flagsOffset] & SegmentStore.discardedFlag != 0
            )
            offset += RecordHeader.size + Int(header.length)
        }
        if offset == fileSize, let (record, discarded) = pending, !discarded { try body(record) }
    }
}
