import Glibc

/// Bytes in the middle of a segment that hold no intact record (bit rot, a bad sector), with an
/// intact record right after them. A torn tail left by a crash is never one: nothing intact
/// follows it.
public struct SegmentDamage: Sendable, Equatable, CustomStringConvertible {
    public var segment: UInt32
    /// Where the first record that failed its check begins.
    public var offset: Int
    /// Bytes up to the next intact record.
    public var length: Int
    /// The damaged record's header as it reads, when it still decodes; its CRC did not check, so
    /// what it says (kind, length) is a hint, not a fact.
    public var claimed: RecordHeader?

    public init(segment: UInt32, offset: Int, length: Int, claimed: RecordHeader?) {
        self.segment = segment
        self.offset = offset
        self.length = length
        self.claimed = claimed
    }

    /// Whether a record at `location` lies in (or overlaps) these bytes.
    public func covers(_ location: RecordLocation) -> Bool {
        guard location.segment == segment else { return false }
        let start = Int(location.offset)
        let end = start + RecordHeader.size + Int(location.length)
        return start < offset + length && offset < end
    }

    public var description: String {
        let hint = claimed.map { " (its header claims a \($0.kind) record of \($0.length) bytes)" } ?? ""
        return "segment \(segment): the record at offset \(offset) fails its CRC check\(hint); "
            + "\(length) bytes up to the next intact record at offset \(offset + length) are unreadable"
    }
}

extension SegmentScanner {
    /// The header at `offset` if it decodes at all (its CRC is not checked).
    static func claimedHeader(fd: Int32, at offset: Int, fileSize: Int) -> RecordHeader? {
        guard offset + RecordHeader.size <= fileSize else { return nil }
        var bytes = [UInt8](repeating: 0, count: RecordHeader.size)
        guard pread(fd, &bytes, RecordHeader.size, off_t(offset)) == RecordHeader.size else { return nil }
        return bytes.withUnsafeBytes { RecordHeader.decode($0) }
    }

    /// The offset of the first intact (CRC-checked) record that begins after `offset`, found by
    /// looking for the record magic at every byte; nil when none does (a torn tail). A damaged
    /// length cannot be trusted to say where the next record starts, so it is not used. Runs only
    /// on damage, reads the rest of the file once in bounded windows.
    static func nextIntactRecord(fd: Int32, after offset: Int, fileSize: Int) -> Int? {
        let magic = withUnsafeBytes(of: RecordHeader.magic.littleEndian) { Array($0) }
        let window = 1 << 20
        var buffer = [UInt8](repeating: 0, count: window + magic.count - 1)
        var headerBytes = [UInt8](repeating: 0, count: RecordHeader.size)
        var start = offset + 1
        while start + RecordHeader.size <= fileSize {
            let wanted = min(buffer.count, fileSize - start)
            let got = buffer.withUnsafeMutableBytes { pread(fd, $0.baseAddress, wanted, off_t(start)) }
            guard got >= magic.count else { return nil }
            for i in 0...(got - magic.count)
            where buffer[i] == magic[0] && buffer[i + 1] == magic[1] && buffer[i + 2] == magic[2]
                && buffer[i + 3] == magic[3]
            {
                if case .intact = readRecord(fd: fd, at: start + i, fileSize: fileSize, header: &headerBytes) {
                    return start + i
                }
            }
            // The last magic.count - 1 bytes are looked at again at the start of the next window.
            start += max(1, got - (magic.count - 1))
        }
        return nil
    }
}
