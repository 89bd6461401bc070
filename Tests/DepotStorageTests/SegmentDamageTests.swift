import DepotStorage
import Glibc
import Testing

/// A scan `pastDamage` (SegmentDamage.swift) goes on after a record that does not check out,
/// from the next intact record, and tells the damage apart from a torn tail.
struct SegmentDamageTests {
    /// A store with six 1000-byte records (payload byte i) in one file; returns it and the path.
    func sixRecords() throws -> (SegmentStore, String, [RecordLocation]) {
        var template = Array("/tmp/depot-damage-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        var locations: [RecordLocation] = []
        for i in 0..<6 {
            locations.append(
                try [UInt8](repeating: UInt8(i), count: 1000).withUnsafeBytes {
                    try store.append(kind: .chunk, sequence: UInt64(i), payload: $0)
                })
        }
        try store.syncDirty()
        return (store, store.path(of: locations[0].segment), locations)
    }

    func flip(_ path: String, at offset: UInt64) {
        let fd = open(path, O_RDWR)
        var byte: UInt8 = 0
        _ = pread(fd, &byte, 1, off_t(offset))
        byte ^= 0x01
        _ = pwrite(fd, &byte, 1, off_t(offset))
        close(fd)
    }

    func scan(_ path: String, _ segment: UInt32, pastDamage: Bool) throws -> ([UInt64], SegmentScanSummary) {
        var sequences: [UInt64] = []
        let summary = try SegmentScanner.scan(path: path, segment: segment, pastDamage: pastDamage) {
            sequences.append($0.header.sequence)
        }
        return (sequences, summary)
    }

    @Test func aDamagedPayloadIsSteppedOverAndNamed() throws {
        let (store, path, locations) = try sixRecords()
        defer { _ = system("rm -rf '\(store.directory)'") }
        flip(path, at: locations[2].payloadOffset + 500)
        #expect(try scan(path, locations[0].segment, pastDamage: false).0 == [0, 1])
        let (sequences, summary) = try scan(path, locations[0].segment, pastDamage: true)
        #expect(sequences == [0, 1, 3, 4, 5])
        #expect(summary.trailingBytes == 0)
        #expect(summary.damage.count == 1)
        let damage = try #require(summary.damage.first)
        #expect(damage.offset == Int(locations[2].offset) && damage.length == RecordHeader.size + 1000)
        #expect(damage.claimed?.kind == .chunk && damage.claimed?.length == 1000)
        #expect(damage.covers(locations[2]) && !damage.covers(locations[1]) && !damage.covers(locations[3]))
    }

    /// A damaged length or magic cannot say where the next record starts; the next intact one is
    /// found by its magic and CRC.
    @Test func aDamagedHeaderIsSteppedOverToTheNextIntactRecord() throws {
        let (store, path, locations) = try sixRecords()
        defer { _ = system("rm -rf '\(store.directory)'") }
        flip(path, at: locations[1].offset)  // the magic
        flip(path, at: locations[3].offset + 9)  // the length's second byte: 1000 becomes 744, still in the file
        let (sequences, summary) = try scan(path, locations[0].segment, pastDamage: true)
        #expect(sequences == [0, 2, 4, 5])
        #expect(summary.damage.map(\.offset) == [Int(locations[1].offset), Int(locations[3].offset)])
        #expect(summary.damage.map(\.length) == [RecordHeader.size + 1000, RecordHeader.size + 1000])
        #expect(summary.damage[0].claimed == nil && summary.damage[1].claimed?.length == 744)
    }

    @Test func aTornTailIsNoDamage() throws {
        let (store, path, locations) = try sixRecords()
        defer { _ = system("rm -rf '\(store.directory)'") }
        // A crash in the middle of a seventh record, and a damaged last record before it.
        flip(path, at: locations[5].payloadOffset + 3)
        let fd = open(path, O_WRONLY | O_APPEND)
        let header = [UInt8](repeating: 0, count: 600).withUnsafeBytes {
            RecordHeader.encode(kind: .chunk, sequence: 6, hash: [], payload: $0)
        }
        #expect(write(fd, header + [1, 2, 3], header.count + 3) == header.count + 3)
        close(fd)
        let (sequences, summary) = try scan(path, locations[0].segment, pastDamage: true)
        #expect(sequences == [0, 1, 2, 3, 4])
        #expect(summary.damage.isEmpty)
        #expect(summary.validEnd == Int(locations[5].offset))
    }
}
