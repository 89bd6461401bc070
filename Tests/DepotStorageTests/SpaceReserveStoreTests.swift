import DepotStorage
import Foundation
import Glibc
import Testing

/// The segment store's part of keeping a full device recoverable: upload bytes stop at the
/// reserve, and what an abandoned upload appended gets its segment sealed for compaction.
struct SpaceReserveStoreTests {
    func temporaryDirectory() -> String {
        var template = Array("/tmp/depot-space-XXXXXX".utf8CString)
        return template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
    }

    @Test func uploadBytesStopAtTheReserve() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let open = try SegmentStore(directory: dir, segmentSize: 1 << 20, reserve: .bytes(0))
        try open.ensureRoomForUpload(bytes: 4096)
        #expect(open.spaceRefusals.load(ordering: .relaxed) == 0)

        let space = try #require(open.deviceSpace())
        let guarded = try SegmentStore(directory: dir, segmentSize: 1 << 20, reserve: .bytes(space.total))
        #expect(throws: StorageError.self) { try guarded.ensureRoomForUpload(bytes: 1) }
        #expect(guarded.spaceRefusals.load(ordering: .relaxed) == 1)
        #expect(guarded.reserveBytes() == space.total)
    }

    @Test func anAbandonedUploadThatIsMostOfTheActiveSegmentSealsIt() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        let payload = [UInt8](repeating: 7, count: 2 << 20)
        let location = try payload.withUnsafeBytes { try store.append(kind: .chunk, payload: $0) }
        let active = store.activeSegmentId

        // A small abandoned upload leaves the segment alone.
        store.noteAbandoned([active: 4096])
        #expect(store.activeSegmentId == active)

        store.noteAbandoned([active: RecordHeader.size + Int(location.length)])
        #expect(store.activeSegmentId == active + 1)
        #expect(store.abandonedBytes.load(ordering: .relaxed) == 4096 + RecordHeader.size + Int(location.length))
        // The sealed segment stays readable; the next append starts the new one.
        #expect(try store.readPayload(location) == payload)
        let next = try payload.withUnsafeBytes { try store.append(kind: .chunk, payload: $0) }
        #expect(next.segment == active + 1)
    }

    @Test func aDiscardedRecordIsSteppedOverByScans() throws {
        let dir = temporaryDirectory()
        defer { _ = system("rm -rf '\(dir)'") }
        var locations: [RecordLocation] = []
        do {
            let writer = try SegmentStore(directory: dir, segmentSize: 64 << 20)
            for i in 0..<3 {
                let payload = [UInt8](repeating: UInt8(i + 1), count: 100_000)
                locations.append(try payload.withUnsafeBytes { try writer.append(kind: .chunk, payload: $0) })
            }
            try writer.syncDirty()
        }
        // A new store seals the old segment, as a restart does.
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        // Once chosen, a record cannot be referenced again, before and after the punch.
        #expect(!store.wasDiscarded(locations[1]))
        store.markDiscarding([locations[1]])
        #expect(store.wasDiscarded(locations[1]) && !store.wasDiscarded(locations[2]))
        guard let punched = try store.discardPayload(locations[1]) else { return }  // no hole punching here
        #expect(punched > 0 && punched <= 100_000)
        #expect(store.wasDiscarded(locations[1]))
        var seen: [UInt8] = []
        let summary = try SegmentScanner.scan(path: store.path(of: locations[0].segment), segment: locations[0].segment) {
            seen.append($0.payload[0])
        }
        #expect(seen == [1, 3])
        #expect(summary.trailingBytes == 0)
        #expect(try store.readPayload(locations[2]) == [UInt8](repeating: 3, count: 100_000))
    }
}
