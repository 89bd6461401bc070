import DepotStorage
import Foundation
import Glibc
import Testing

/// `SegmentStore` through the `ChunkStore` protocol only (as a second store would be driven):
/// a record appended from pieces reads back whole and by range, survives `syncDirty`, and
/// an upload larger than the device is refused.
struct ChunkStoreTests {
    /// Everything here goes through the protocol's requirements, nothing segment-specific.
    func exercise<Store: ChunkStore>(_ store: Store) throws {
        let first = [UInt8](repeating: 7, count: 3000)
        let second = Array(0..<200).map { UInt8($0) }
        let location = try first.withUnsafeBytes { a in
            try second.withUnsafeBytes { b in
                try store.append(kind: .chunk, sequence: 0, hash: [UInt8](repeating: 1, count: 32), pieces: [a, b])
            }
        }
        #expect(location.length == 3200)
        #expect(try store.syncDirty() >= 1)
        store.prefetch(location)
        #expect(try store.readPayload(location) == first + second)
        var range = [UInt8](repeating: 0, count: 100)
        try range.withUnsafeMutableBytes { try store.read(location, skip: 2950, into: $0) }
        #expect(range == Array(first[2950...]) + Array(second[..<50]))
        #expect(!store.wasDiscarded(location))
        #expect(throws: StorageError.self) { try store.ensureRoomForUpload(bytes: Int.max / 2) }
    }

    @Test func segmentStoreServesTheDataPathThroughTheProtocol() throws {
        var template = Array("/tmp/depot-chunkstore-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        try exercise(try SegmentStore(directory: dir, segmentSize: 1 << 20))
        // The existential works too (a backend chosen at run time), same answers.
        let dir2 = dir + "/any"
        mkdir(dir2, 0o700)
        let store: any ChunkStore = try SegmentStore(directory: dir2, segmentSize: 1 << 20)
        try exercise(store)
    }
}
