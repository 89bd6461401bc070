import DepotStorage
import Foundation
import Glibc
import Testing

/// What `syncDirty` leaves in the page cache: whole synced pages of the active segment are
/// dropped, the page its end is in stays (the next append writes into it; dropped, it had to be
/// read back from the disk first, once per commit batch of small PUTs).
struct SegmentSyncPageCacheTests {
    @Test func theActiveSegmentKeepsItsLastPartialPageAndDropsTheWholeSyncedOnes() throws {
        var template = Array("/tmp/depot-segcache-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        // Records of a small PUT's size, so that the segment's end falls inside a page.
        var last = RecordLocation(segment: 0, offset: 0, length: 0)
        for i in 0..<8 {
            let payload = [UInt8](repeating: UInt8(i), count: 4096)
            last = try payload.withUnsafeBytes { try store.append(kind: .chunk, sequence: UInt64(i), payload: $0) }
        }
        try store.syncDirty()
        let end = Int(last.offset) + Int(last.length)
        try #require(end % page != 0, "the segment's end must fall inside a page for this test")
        let resident = try residentPages(store.path(of: last.segment))
        #expect(resident[end / page], "the page the active segment ends in was dropped")
        // Whole pages the sync made durable are dropped (the file's first page holds its header
        // and the first record's start; it is kept as the kernel keeps a range's partial first page).
        #expect(!resident[1..<(end / page)].contains(true), "synced whole pages stayed cached: \(resident)")
        // The bytes are all there.
        #expect(try store.readPayload(last) == [UInt8](repeating: 7, count: 4096))
    }
}
