import DepotHashing
import Glibc

/// A record found by scanning a segment file.
public struct ScannedRecord {
    public let header: RecordHeader
    public let location: RecordLocation
    public let payload: [UInt8]
}

/// What a scan of one segment found: how far the valid records go and whether bytes follow them.
public struct SegmentScanSummary: Sendable {
    public var records = 0
    public var validEnd = 0
    public var fileSize = 0
    /// Bytes after the last valid record: a torn tail left by a crash, or corruption.
    public var trailingBytes: Int { fileSize - validEnd }
}

/// Reads a segment file front to back, checking each record's magic, length and CRC, and stops
/// at the first record that does not check out; records marked discarded are stepped over. Used by fsck, index rebuild and compaction.
public enum SegmentScanner {
    public static func scan(
        path: String, segment: UInt32, _ body: (ScannedRecord) throws -> Void
    ) throws -> SegmentScanSummary {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw StorageError.fromErrno("open \(path)") }
        defer { close(fd) }
        var st = stat()
        fstat(fd, &st)
        var summary = SegmentScanSummary()
        summary.fileSize = Int(st.st_size)
        var fileHeader = [UInt8](repeating: 0, count: SegmentStore.fileHeaderSize)
        guard pread(fd, &fileHeader, fileHeader.count, 0) == fileHeader.count,
            Array(fileHeader[0..<8]) == SegmentStore.fileMagic
        else { throw StorageError.corrupt("\(path) is not a segment file") }
        var offset = SegmentStore.fileHeaderSize
        summary.validEnd = offset
        var headerBytes = [UInt8](repeating: 0, count: RecordHeader.size)
        while offset + RecordHeader.size <= summary.fileSize {
            guard pread(fd, &headerBytes, RecordHeader.size, off_t(offset)) == RecordHeader.size else { break }
            guard let header = headerBytes.withUnsafeBytes({ RecordHeader.decode($0) }) else { break }
            let length = Int(header.length)
            guard offset + RecordHeader.size + length <= summary.fileSize else { break }
            if headerBytes[SegmentStore.flagsOffset] & SegmentStore.discardedFlag != 0 {
                // A dead record whose payload was given back (SegmentHoles.swift): step over it.
                offset += RecordHeader.size + length
                summary.validEnd = offset
                continue
            }
            var payload = [UInt8](repeating: 0, count: length)
            if length > 0 {
                guard pread(fd, &payload, length, off_t(offset + RecordHeader.size)) == length else { break }
            }
            let valid = headerBytes.withUnsafeBytes { h in
                payload.withUnsafeBytes { RecordHeader.verify(header: h, payload: $0, crc: header.crc) }
            }
            guard valid else { break }
            let location = RecordLocation(segment: segment, offset: UInt64(offset), length: UInt32(length))
            try body(ScannedRecord(header: header, location: location, payload: payload))
            summary.records += 1
            offset += RecordHeader.size + length
            summary.validEnd = offset
        }
        return summary
    }
}
