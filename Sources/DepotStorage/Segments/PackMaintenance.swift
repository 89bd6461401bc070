import Glibc

/// Which file a record's bytes count against for compaction: a local segment (embedded mode), or
/// a pack object (cluster mode), named by its writer and sequence.
///
/// Why not the segment number alone: every pack writer (one per node and start) numbers its packs
/// from 1, so sequence 7 of two writers are two packs. `RecordLocation` carries the writer in the
/// offset's high 32 bits for packs (PackId in DepotPackStore); a segment's is 0, since a segment
/// stays far below 4 GiB. The live-bytes row of a unit (`segments` index table) is keyed by
/// `indexKey`: a segment's 4-byte key as before, a pack's 8 bytes (writer, then sequence), so the
/// two never collide and embedded mode's rows are unchanged.
public struct LiveUnit: Hashable, Sendable, Comparable, CustomStringConvertible {
    public var writer: UInt32
    public var sequence: UInt32

    public init(writer: UInt32, sequence: UInt32) {
        self.writer = writer
        self.sequence = sequence
    }

    /// A local segment.
    public init(segment: UInt32) { self.init(writer: 0, sequence: segment) }

    /// The pack (or segment) a record lies in.
    public init(_ location: RecordLocation) {
        self.init(writer: UInt32(truncatingIfNeeded: location.offset >> 32), sequence: location.segment)
    }

    public var isPack: Bool { writer != 0 }

    /// The key of its live-bytes row in the `segments` index table.
    public var indexKey: [UInt8] {
        var key: [UInt8] = []
        if writer != 0 { withUnsafeBytes(of: writer.bigEndian) { key.append(contentsOf: $0) } }
        withUnsafeBytes(of: sequence.bigEndian) { key.append(contentsOf: $0) }
        return key
    }

    /// The unit of a `segments` row key (4 or 8 bytes); nil for another key shape.
    public init?(indexKey key: some Collection<UInt8>) {
        let bytes = Array(key)
        func word(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        switch bytes.count {
        case 4: self.init(segment: word(0))
        case 8: self.init(writer: word(0), sequence: word(4))
        default: return nil
        }
    }

    /// `<writer>/<sequence>` in fixed-width hex for a pack (as its object key ends), the number
    /// for a segment.
    public var description: String {
        guard isPack else { return "segment \(sequence)" }
        func hex(_ value: UInt32) -> String {
            let digits = String(value, radix: 16)
            return String(repeating: "0", count: 8 - digits.count) + digits
        }
        return hex(writer) + "/" + hex(sequence)
    }

    /// A record's location in this pack at `offset` (the writer in the high bits).
    public func location(offset: Int, length: UInt32) -> RecordLocation {
        RecordLocation(segment: sequence, offset: UInt64(writer) << 32 | UInt64(offset), length: length)
    }

    public static func < (a: LiveUnit, b: LiveUnit) -> Bool { (a.writer, a.sequence) < (b.writer, b.sequence) }
}

/// A pack object as the store lists it.
public struct StoredPack: Sendable, Hashable {
    public var unit: LiveUnit
    public var size: Int
    /// When the store says it was written (seconds since 1970).
    public var modified: Double

    public init(unit: LiveUnit, size: Int, modified: Double) {
        self.unit = unit
        self.size = size
        self.modified = modified
    }
}

/// What pack compaction and cluster fsck need of a chunk store of pack objects, beyond the data
/// path: list the packs, fetch one whole, delete one. (DepotPackStore's `PackChunkStore`.)
public protocol PackMaintenanceStore: ChunkStore {
    /// Every pack in the store (every page of the listing, each request bounded).
    func listPacks() throws -> [StoredPack]
    /// A pack's bytes, whole.
    func downloadPack(_ unit: LiveUnit, size: Int) throws -> [UInt8]
    /// Removes a pack from the store (gone already counts as done).
    func deletePack(_ unit: LiveUnit) throws
    /// Bytes `range` of a pack as the store holds it, past this node's cache (fewer at its end).
    func readStored(_ unit: LiveUnit, _ range: Range<Int>) throws -> [UInt8]
    /// Drops a pack's blocks from this node's read cache.
    func forgetCached(_ unit: LiveUnit)
}

extension ScannedRecord {
    /// A record at another place (a pack's scan gives file offsets; the index holds pack locations).
    public func moved(to location: RecordLocation) -> ScannedRecord {
        ScannedRecord(header: header, location: location, payload: payload)
    }
}

/// A pack downloaded for a scan: a temporary file (SegmentScanner reads files), removed by the caller.
public enum PackScratch {
    public static func write(_ bytes: [UInt8]) throws -> String {
        var template = Array("/tmp/depot-pack-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw StorageError.fromErrno("mkstemp for a pack scan") }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var written = 0
        while written < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
            guard n > 0 else {
                unlink(path)
                throw StorageError.fromErrno("write \(path)")
            }
            written += n
        }
        return path
    }
}
