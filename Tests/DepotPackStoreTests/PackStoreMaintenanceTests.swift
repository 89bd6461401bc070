import DepotStorage
import Foundation
import Testing

@testable import DepotPackStore

/// What pack compaction and cluster fsck ask of the store (PackStoreMaintenance.swift), on a real
/// moto_server: the listing names every pack with its size and time; a whole pack
/// downloads as a segment file; a deleted pack is gone (twice is fine) and its cached blocks too.
struct PackStoreMaintenanceTests {
    @Test func packsAreListedDownloadedAndDeleted() throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let store = try PackChunkStore(
            settings: PackChunkStoreTests.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        defer { store.shutdown() }
        try store.createBucketIfMissing()
        var locations: [RecordLocation] = []
        for index in 0..<3 {
            locations.append(try PackChunkStoreTests.append(store, PackChunkStoreTests.payload(index, size: 10_000)))
            try store.syncDirty()  // one pack each
        }
        let started = Date().timeIntervalSince1970
        let listed = try store.listPacks().sorted { $0.unit < $1.unit }
        #expect(listed.map(\.unit) == locations.map { LiveUnit($0) })
        #expect(listed.allSatisfy { $0.size == SegmentStore.fileHeaderSize + RecordHeader.size + 10_000 })
        #expect(listed.allSatisfy { abs($0.modified - started) < 120 })

        let whole = try store.downloadPack(listed[1].unit, size: listed[1].size)
        #expect(whole.count == listed[1].size)
        #expect(Array(whole[0..<8]) == Array("DPSEG001".utf8))
        #expect(Array(whole[(16 + RecordHeader.size)...]) == PackChunkStoreTests.payload(1, size: 10_000))

        #expect(try store.readPayload(locations[0]) == PackChunkStoreTests.payload(0, size: 10_000))
        let cachedBefore = store.cachedBytes
        try store.deletePack(listed[0].unit)
        try store.deletePack(listed[0].unit)  // already gone: done
        store.forgetCached(listed[0].unit)
        #expect(store.cachedBytes == cachedBefore - listed[0].size, "cached before: \(cachedBefore)")
        #expect(try store.listPacks().map(\.unit).sorted() == [listed[1].unit, listed[2].unit])
    }

    @Test func packKeysAndStoreTimesParse() {
        #expect(PackObjectClient.packUnit("0000abcd/00000010") == LiveUnit(writer: 0xabcd, sequence: 16))
        #expect(PackObjectClient.packUnit("00000000/00000001") == nil)  // writer 0 names no pack
        #expect(PackObjectClient.packUnit("abcd/1") == nil)
        #expect(PackObjectClient.packUnit("0000abcd/00000010/x") == nil)
        #expect(PackObjectClient.parseISO8601("2026-12-05T18:00:00.000Z") == 1_796_493_600)
        #expect(PackObjectClient.parseISO8601("2026-12-05T18:00:00Z") == 1_796_493_600)
        #expect(PackObjectClient.parseISO8601("yesterday") == nil)
    }
}
