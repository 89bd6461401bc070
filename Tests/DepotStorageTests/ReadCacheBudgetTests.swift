import Foundation
import Glibc
import Testing

@testable import DepotStorage

/// Reads hold the page cache to a budget: the least recently read ranges past it are dropped, a
/// range read again counts once and moves to the newest end, small reads are not counted.
struct ReadCacheBudgetTests {
    typealias Range = ReadCacheBudget.Range
    static let mib = 1 << 20

    func range(_ segment: UInt32, _ index: Int) -> Range { Range(segment: segment, offset: index * Self.mib, length: Self.mib) }

    @Test func theLeastRecentlyReadRangesGoFirst() {
        var budget = ReadCacheBudget(bytes: 3 * Self.mib)
        for i in 0..<3 { #expect(budget.note(range(1, i)).isEmpty) }
        #expect(budget.note(range(1, 3)) == [range(1, 0)])
        // Reading 1 again moves it behind 2 and 3 and counts it once.
        #expect(budget.note(range(1, 1)).isEmpty)
        #expect(budget.total == 3 * Self.mib)
        #expect(budget.note(range(2, 0)) == [range(1, 2)])
        #expect(budget.note(range(2, 1)) == [range(1, 3)])
        #expect(budget.note(range(2, 2)) == [range(1, 1)])
        #expect(budget.total == 3 * Self.mib)
    }

    @Test func smallReadsAreNotCountedAndABigReadIsNeverItsOwnVictim() {
        var budget = ReadCacheBudget(bytes: 2 * Self.mib)
        #expect(budget.note(Range(segment: 1, offset: 0, length: 4096)).isEmpty)
        #expect(budget.total == 0)
        let big = Range(segment: 1, offset: 0, length: 5 * Self.mib)
        #expect(budget.note(range(3, 0)).isEmpty)
        #expect(budget.note(big) == [range(3, 0)], "the older range goes; the one just read stays")
        #expect(budget.total == 5 * Self.mib)
    }

    @Test func aLongRunStaysWithinTheBudget() {
        var budget = ReadCacheBudget(bytes: 8 * Self.mib)
        var dropped = 0
        for i in 0..<10_000 { dropped += budget.note(range(UInt32(i % 3), i % 5000)).count }
        #expect(budget.total == 8 * Self.mib)
        #expect(dropped == 10_000 - 8)
    }

    /// A store with a 3 MiB budget: after six 1 MiB records are read, the last three read are
    /// in the page cache and the first three are not; every byte still reads back.
    @Test func aStoreKeepsOnlyItsBudgetOfReadPagesCached() throws {
        var template = Array("/tmp/depot-readcache-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20, readCacheBytes: 3 * Self.mib)
        let records = try (0..<6).map { i in
            try [UInt8](repeating: UInt8(i + 1), count: Self.mib).withUnsafeBytes {
                try store.append(kind: .chunk, sequence: UInt64(i), payload: $0)
            }
        }
        try store.syncDirty()
        for record in records { _ = try store.readPayload(record) }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let resident = try residentPages(store.path(of: records[0].segment))
        func cachedShare(_ record: RecordLocation) -> Double {
            let first = (Int(record.payloadOffset) + page - 1) / page
            let last = (Int(record.payloadOffset) + Int(record.length)) / page
            return Double(resident[first..<last].filter { $0 }.count) / Double(last - first)
        }
        for record in records.prefix(3) { #expect(cachedShare(record) == 0, "\(record) stayed cached: past the budget") }
        for record in records.suffix(3) { #expect(cachedShare(record) == 1, "\(record) was dropped within the budget") }
        for (i, record) in records.enumerated() {
            #expect(try store.readPayload(record) == [UInt8](repeating: UInt8(i + 1), count: Self.mib))
        }
    }
}
