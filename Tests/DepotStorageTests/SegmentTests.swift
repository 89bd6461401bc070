import DepotStorage
import Foundation
import Glibc
import Testing

/// Segment records: what is appended scans back intact; a torn tail or a flipped bit stops the
/// scan there instead of yielding garbage.
struct SegmentTests {
    func temporaryDirectory() -> String {
        var template = Array("/tmp/depot-seg-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    @Test func appendedRecordsScanBackAndReadBack() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 1 << 20)
        var locations: [RecordLocation] = []
        for i in 0..<40 {
            let payload = [UInt8](repeating: UInt8(i), count: 50_000 + i)
            locations.append(try payload.withUnsafeBytes { try store.append(kind: .chunk, sequence: UInt64(i), payload: $0) })
        }
        try store.syncDirty()
        #expect(store.segmentIds.count > 1, "a 1 MiB segment size must roll over")
        for (i, location) in locations.enumerated() {
            #expect(try store.readPayload(location) == [UInt8](repeating: UInt8(i), count: 50_000 + i))
        }
        var scanned = 0
        for id in store.segmentIds {
            let summary = try SegmentScanner.scan(path: store.path(of: id), segment: id) { record in
                #expect(
                    record.payload
                        == [UInt8](repeating: UInt8(record.header.sequence), count: Int(50_000 + record.header.sequence)))
                scanned += 1
            }
            #expect(summary.trailingBytes == 0)
        }
        #expect(scanned == 40)
    }

    /// How many pages of `path` are in the page cache.
    func residentPageCount(_ path: String) throws -> Int { try residentPages(path).filter { $0 }.count }

    /// `storage.cacheWrittenData: false`: once synced, a segment's pages leave the page cache;
    /// with it on they stay. The files live under `.build/` (a disk file system: on tmpfs pages
    /// can never leave the cache).
    @Test(arguments: [true, false]) func syncedPagesLeaveThePageCacheUnlessKept(keep: Bool) throws {
        var template = Array((FileManager.default.currentDirectoryPath + "/.build/depot-seg-XXXXXX").utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20, keepsSyncedPagesCached: keep)
        let payload = [UInt8](repeating: 7, count: 1 << 20)
        var last: RecordLocation?
        for i in 0..<8 {
            last = try payload.withUnsafeBytes { try store.append(kind: .chunk, sequence: UInt64(i), payload: $0) }
        }
        try store.syncDirty()
        let resident = try residentPageCount(store.path(of: store.segmentIds.last!))
        if keep {
            #expect(resident >= 1024, "8 MiB just written stays cached: \(resident) pages")
        } else {
            #expect(resident < 64, "synced pages are dropped: \(resident) pages still cached")
        }
        #expect(try store.readPayload(last!) == payload)  // and reads still see the bytes
        if !keep {
            // A later sync drops only what it made durable: the pages that read brought back stay.
            _ = try payload.withUnsafeBytes { try store.append(kind: .chunk, sequence: 8, payload: $0) }
            try store.syncDirty()
            let reread = try residentPageCount(store.path(of: store.segmentIds.last!))
            #expect(reread >= 200, "the 1 MiB read back is still cached: \(reread) pages")
        }
    }

    @Test func tornTailAndCorruptionStopTheScan() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        for i in 0..<3 {
            _ = try [UInt8](repeating: 7, count: 1000).withUnsafeBytes {
                try store.append(kind: .chunk, sequence: UInt64(i), payload: $0)
            }
        }
        try store.syncDirty()
        let id = store.segmentIds[0]
        let path = store.path(of: id)
        // Simulate a crash in the middle of a fourth record.
        let fd = open(path, O_WRONLY | O_APPEND)
        let junk = [UInt8](repeating: 0x44, count: 30)
        _ = junk.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        close(fd)
        var count = 0
        var summary = try SegmentScanner.scan(path: path, segment: id) { _ in count += 1 }
        #expect(count == 3 && summary.trailingBytes == 30)
        // Flip one payload bit of the second record: the scan stops before it.
        let second = SegmentStore.fileHeaderSize + RecordHeader.size + 1000 + RecordHeader.size + 10
        let rw = open(path, O_RDWR)
        var byte: UInt8 = 0
        _ = pread(rw, &byte, 1, off_t(second))
        byte ^= 1
        _ = pwrite(rw, &byte, 1, off_t(second))
        close(rw)
        count = 0
        summary = try SegmentScanner.scan(path: path, segment: id) { _ in count += 1 }
        #expect(count == 1)
    }
}
