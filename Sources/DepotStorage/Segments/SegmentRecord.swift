import DepotHashing

/// What a segment record holds. Chunk records carry object bytes; the others form the log from
/// which `depot fsck --rebuild-index` rebuilds the whole index, so every index change that must
/// survive a lost index is written here first.
public enum RecordKind: UInt8, Sendable, CaseIterable {
    case chunk = 1
    case objectCommit = 2
    case objectDelete = 3
    case bucketCreate = 4
    case bucketDelete = 5
    /// One version of an object removed (versioned buckets).
    case versionDelete = 6
    /// An encryption domain's data key, wrapped by a master key (server-side encryption).
    case encryptionDomain = 7
    /// A small keyed item of an index table set or removed (stored accounts, admin-made tiers
    /// and policies): what a rebuild needs of the index state that is not about objects.
    case keyedItem = 8
}

/// Where a record sits: its segment, the offset of its header, and its payload length.
public struct RecordLocation: Sendable, Hashable, CustomStringConvertible {
    public var segment: UInt32
    public var offset: UInt64
    public var length: UInt32

    public init(segment: UInt32, offset: UInt64, length: UInt32) {
        self.segment = segment
        self.offset = offset
        self.length = length
    }

    public var payloadOffset: UInt64 { offset + UInt64(RecordHeader.size) }
    public var description: String { "\(segment):\(offset)+\(length)" }
}

/// The fixed 56-byte record header:
/// `magic(4) kind(1) flags(1) reserved(2) length(4) seq(8) hash(32) crc32c(4)`, little-endian.
/// The CRC32C covers the first 52 header bytes and the payload, so a torn or corrupted record is
/// recognised; `hash` is the SHA-256 of a chunk's payload (its address) and zero for log records.
public struct RecordHeader: Sendable, Equatable {
    public static let size = 56
    public static let magic: UInt32 = 0x3152_5044  // "DPR1"
    public static let maxPayload: UInt32 = 256 << 20

    public var kind: RecordKind
    public var length: UInt32
    public var sequence: UInt64
    public var hash: [UInt8]
    public var crc: UInt32

    public init(kind: RecordKind, length: UInt32, sequence: UInt64, hash: [UInt8], crc: UInt32 = 0) {
        self.kind = kind
        self.length = length
        self.sequence = sequence
        self.hash = hash.count == 32 ? hash : [UInt8](repeating: 0, count: 32)
        self.crc = crc
    }

    /// Encodes the header, computing the CRC over it and `payload`.
    public static func encode(
        kind: RecordKind, sequence: UInt64, hash: [UInt8], payload: UnsafeRawBufferPointer
    ) -> [UInt8] {
        encode(kind: kind, sequence: sequence, hash: hash, pieces: [payload])
    }

    /// Encodes the header of a payload made of `pieces` in order.
    public static func encode(
        kind: RecordKind, sequence: UInt64, hash: [UInt8], pieces: [UnsafeRawBufferPointer]
    ) -> [UInt8] {
        var w = BinaryWriter(capacity: size)
        w.u32(magic)
        w.u8(kind.rawValue)
        w.u8(0)
        w.u8(0)
        w.u8(0)
        w.u32(UInt32(pieces.reduce(0) { $0 + $1.count }))
        w.u64(sequence)
        w.raw(hash.count == 32 ? hash : [UInt8](repeating: 0, count: 32))
        var crc = CRC32C()
        crc.update(w.bytes)
        for piece in pieces { crc.update(piece) }
        w.u32(crc.value)
        return w.bytes
    }

    /// Parses a header; nil when the bytes are not a plausible header (torn tail, garbage).
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> RecordHeader? {
        guard bytes.count >= size else { return nil }
        var r = BinaryReader(bytes)
        guard (try? r.u32()) == magic,
            let kindByte = try? r.u8(), let kind = RecordKind(rawValue: kindByte),
            (try? r.raw(3)) != nil,
            let length = try? r.u32(), length <= maxPayload,
            let sequence = try? r.u64(),
            let hash = try? r.raw(32),
            let crc = try? r.u32()
        else { return nil }
        return RecordHeader(kind: kind, length: length, sequence: sequence, hash: hash, crc: crc)
    }

    /// Checks the stored CRC against the header bytes and the payload.
    public static func verify(header bytes: UnsafeRawBufferPointer, payload: UnsafeRawBufferPointer, crc: UInt32) -> Bool {
        var c = CRC32C()
        c.update(UnsafeRawBufferPointer(rebasing: bytes[0..<52]))
        c.update(payload)
        return c.value == crc
    }
}
