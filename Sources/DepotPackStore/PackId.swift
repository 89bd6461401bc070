import DepotHashing
import DepotStorage

/// A pack's name: the writer that made it and its number within that writer.
///
/// A writer is one `PackChunkStore` instance: it draws a random nonzero 32-bit id when it opens,
/// so nodes (and restarts of one node) never need to agree on anything to name packs uniquely.
/// Two writers drawing the same id is a 2^-32 chance per pair; the store still never overwrites
/// a pack, because every pack PUT carries `If-None-Match: *` (PackWriter handles the refusal).
///
/// `RecordLocation` (segment u32, offset u64, length u32, as the index stores it) maps onto a
/// pack without a format change: `segment` is the pack's sequence, the high 32 bits of
/// `offset` are the writer, the low 32 bits the offset in the pack (a pack stays far below
/// 4 GiB: its target size plus at most one record of `RecordHeader.maxPayload`).
public struct PackId: Hashable, Sendable, CustomStringConvertible {
    public var writer: UInt32
    public var sequence: UInt32

    public init(writer: UInt32, sequence: UInt32) {
        self.writer = writer
        self.sequence = sequence
    }

    /// `<writer>/<sequence>` in fixed-width hex, as in the object key.
    public var description: String { Self.hex8(writer) + "/" + Self.hex8(sequence) }

    /// The pack's object key under `prefix`: `<prefix>packs/<writer>/<sequence>`.
    public func objectKey(prefix: String) -> String { prefix + "packs/" + description }

    static func hex8(_ value: UInt32) -> String {
        let digits = Hex.encode(withUnsafeBytes(of: value.bigEndian) { Array($0) })
        return digits
    }

    /// A fresh random writer id (never 0, so a zeroed location never names a pack).
    static func randomWriter() -> UInt32 {
        while true {
            let bytes = secureRandomBytes(4)
            let value = bytes.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
            if value != 0 { return value }
        }
    }
}

/// A record's place in a pack, decoded from (or encoded into) a `RecordLocation`.
public struct PackLocation: Hashable, Sendable {
    public var pack: PackId
    /// Offset of the record's header in the pack.
    public var offset: Int
    public var length: Int

    public init(pack: PackId, offset: Int, length: Int) {
        self.pack = pack
        self.offset = offset
        self.length = length
    }

    public init(_ location: RecordLocation) {
        pack = PackId(writer: UInt32(truncatingIfNeeded: location.offset >> 32), sequence: location.segment)
        offset = Int(location.offset & 0xffff_ffff)
        length = Int(location.length)
    }

    public var recordLocation: RecordLocation {
        RecordLocation(
            segment: pack.sequence, offset: UInt64(pack.writer) << 32 | UInt64(offset), length: UInt32(length))
    }

    /// Where the payload starts in the pack.
    public var payloadOffset: Int { offset + RecordHeader.size }
}

/// A pack's first bytes: a segment file header (`DPSEG001`, the sequence, then the writer in
/// the word segments leave zero), so a downloaded pack is a segment file that `SegmentScanner`
/// reads as it is, records at the same offsets.
enum PackHeader {
    static func bytes(_ pack: PackId) -> [UInt8] {
        var header = Array("DPSEG001".utf8)
        withUnsafeBytes(of: pack.sequence.littleEndian) { header.append(contentsOf: $0) }
        withUnsafeBytes(of: pack.writer.littleEndian) { header.append(contentsOf: $0) }
        return header
    }
}
