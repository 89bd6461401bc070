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
    /// Damaged stretches with intact records after them, found only by a scan `pastDamage`
    /// (SegmentDamage.swift); a torn tail is not among them (see `trailingBytes`).
    public var damage: [SegmentDamage] = []
}

/// Reads a segment file front to back, checking each record's magic, length and CRC, and stops
/// at the first record that does not check out; records marked discarded are stepped over. Used by fsck, index rebuild and compaction.
/// With `pastDamage`, a record that does not check out is not the end: the scan looks for the
/// next intact record after it, notes the bytes in between as damage and goes on from there.
public enum SegmentScanner {
    public static func scan(
        path: String, segment: UInt32, pastDamage: Bool = false, _ body: (ScannedRecord) throws -> Void
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
            switch readRecord(fd: fd, at: offset, fileSize: summary.fileSize, header: &headerBytes) {
            case .discarded(let length):
                // A dead record whose payload was given back (SegmentHoles.swift): step over it.
                offset += RecordHeader.size + length
                summary.validEnd = offset
            case .intact(let header, let payload):
                let location = RecordLocation(segment: segment, offset: UInt64(offset), length: header.length)
                try body(ScannedRecord(header: header, location: location, payload: payload))
                summary.records += 1
                offset += RecordHeader.size + payload.count
                summary.validEnd = offset
            case .invalid:
                guard pastDamage, let next = nextIntactRecord(fd: fd, after: offset, fileSize: summary.fileSize) else {
                    return summary
                }
                summary.damage.append(
                    SegmentDamage(
                        segment: segment, offset: offset, length: next - offset,
                        claimed: claimedHeader(fd: fd, at: offset, fileSize: summary.fileSize)))
                offset = next
            }
        }
        return summary
    }

    enum RecordRead {
        case intact(RecordHeader, [UInt8])
        /// A header marked discarded: its payload is gone and its CRC no longer checks.
        case discarded(length: Int)
        /// Not a record, a record running past the file's end, or one whose CRC fails.
        case invalid
    }

    /// Reads and verifies the record whose header is at `offset`.
    static func readRecord(fd: Int32, at offset: Int, fileSize: Int, header headerBytes: inout [UInt8]) -> RecordRead {
        guard offset + RecordHeader.size <= fileSize,
            pread(fd, &headerBytes, RecordHeader.size, off_t(offset)) == RecordHeader.size,
            let header = headerBytes.withUnsafeBytes({ RecordHeader.decode($0) })
        else { return .invalid }
        let length = Int(header.length)
        guard offset + RecordHeader.size + length <= fileSize else { return .invalid }
        if headerBytes[SegmentStore.flagsOffset] & SegmentStore.discardedFlag != 0 { return .discarded(length: length) }
        var payload = [UInt8](repeating: 0, count: length)
        if length > 0 {
            guard pread(fd, &payload, length, off_t(offset + RecordHeader.size)) == length else { return .invalid }
        }
        let valid = headerBytes.withUnsafeBytes { h in
            payload.withUnsafeBytes { RecordHeader.verify(header: h, payload: $0, crc: header.crc) }
        }
        return valid ? .intact(header, payload) : .invalid
    }
}
