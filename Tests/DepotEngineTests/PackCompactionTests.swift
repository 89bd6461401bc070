import DepotHashing
import DepotStorage
import Synchronization
import Testing

@testable import DepotEngine
import TestRandomness

/// Pack compaction (PackCompaction.swift) over an in-memory pack store and the memory index,
/// where the interleavings can be set up exactly: an upload that deduplicated onto a chunk
/// whose last reference is deleted, then compacted away, still commits a readable object (its
/// commit reads the pack's retirement row and copies the chunk out); and a pack's deletion leaves
/// its retirement row behind, so a commit arriving after the grace period fails instead of
/// pointing into a pack that is gone.
struct PackCompactionTests {
    func engine(_ dir: TemporaryDirectory, _ store: MemoryPackStore) throws -> Engine {
        var configuration = testConfiguration(dir.path)
        configuration.chunkStore = store
        return try Engine(configuration: configuration, indexStore: MemoryIndexStore(tables: IndexTable.allCases.map(\.rawValue)))
    }

    static func settings(grace: Double) -> PackCompactionSettings {
        var settings = PackCompactionSettings()
        settings.graceSeconds = grace
        return settings
    }

    @Test func anUploadThatDeduplicatedOntoACompactedChunkCopiesItOut() async throws {
        let dir = TemporaryDirectory()
        let store = MemoryPackStore()
        let engine = try engine(dir, store)
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 77)
        // Many chunks: each but the last is looked up (deduplicated) as the upload writes it.
        let data = random.bytes(300_000)
        try await engine.put("videos", "first.mp4", data)

        // The second upload finds the chunk (dedup) before the first object goes.
        let session = try engine.startIngest(bucket: "videos", key: "second.mp4")
        try session.write(data)
        _ = try await engine.deleteObject(bucket: "videos", key: "first.mp4")
        let round = try await engine.compactPacks(store, settings: Self.settings(grace: 3600), progress: { _ in })
        #expect(round.segmentsCompacted >= 1)
        let retired = try engine.packLedger().retired
        #expect(!retired.isEmpty)

        _ = try await session.commit(metadata: ObjectMetadata(owner: "tester"))
        // Deleted from the store now: the second object's chunk was copied out at its commit.
        _ = try await engine.compactPacks(store, settings: Self.settings(grace: 0), progress: { _ in })
        #expect(retired.keys.allSatisfy { !store.holds($0) })
        #expect(try engine.get("videos", "second.mp4") == data)
        let report = try Engine.fsckPacks(index: engine.indexStore, packs: store, options: fullCheck())
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    @Test func aCommitAfterTheRetiredPackIsDeletedFailsInsteadOfPointingIntoIt() async throws {
        let dir = TemporaryDirectory()
        let store = MemoryPackStore()
        let engine = try engine(dir, store)
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 78)
        let data = random.bytes(300_000)
        try await engine.put("videos", "first.mp4", data)
        let session = try engine.startIngest(bucket: "videos", key: "late.mp4")
        try session.write(data)
        _ = try await engine.deleteObject(bucket: "videos", key: "first.mp4")
        _ = try await engine.compactPacks(store, settings: Self.settings(grace: 3600), progress: { _ in })
        _ = try await engine.compactPacks(store, settings: Self.settings(grace: 0), progress: { _ in })
        await #expect(throws: (any Error).self) {
            _ = try await session.commit(metadata: ObjectMetadata(owner: "tester"))
        }
        #expect(try engine.get("videos", "late.mp4") == nil)
    }

    @Test func liveObjectsSurviveRepackingAndThePackCountFalls() async throws {
        let dir = TemporaryDirectory()
        let store = MemoryPackStore()
        let engine = try engine(dir, store)
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 79)
        var bodies: [String: [UInt8]] = [:]
        for index in 0..<12 {
            bodies["clip-\(index)"] = random.bytes(30_000 + index)
            try await engine.put("videos", "clip-\(index)", bodies["clip-\(index)"]!)
        }
        let copied = bodies["clip-3"]!
        try await engine.put("videos", "copy-of-3", copied)  // deduplicated: clip-3's chunks
        for index in 0..<12 where index % 4 != 0 {
            _ = try await engine.deleteObject(bucket: "videos", key: "clip-\(index)")
            bodies["clip-\(index)"] = nil
        }
        let before = store.packCount
        _ = try await engine.compactPacks(store, settings: Self.settings(grace: 0), progress: { _ in })
        _ = try await engine.compactPacks(store, settings: Self.settings(grace: 0), progress: { _ in })
        #expect(store.packCount < before / 2, "\(before) -> \(store.packCount)")
        for (key, body) in bodies { #expect(try engine.get("videos", key) == body) }
        #expect(try engine.get("videos", "copy-of-3") == copied)
        let report = try Engine.fsckPacks(index: engine.indexStore, packs: store, options: fullCheck())
        #expect(report.problems.isEmpty, "\(report.problems)")
    }

    func fullCheck() -> PackFsckOptions {
        var options = PackFsckOptions()
        options.full = true
        options.orphanAgeSeconds = 3600
        return options
    }
}

/// Packs in memory: records appended to an open pack, sealed and "stored" at each sync, named
/// `writer/sequence` like PackChunkStore's (the writer in the location's high offset bits).
final class MemoryPackStore: PackMaintenanceStore, @unchecked Sendable {
    private struct State {
        var sequence: UInt32 = 1
        var open: [UInt8]? = nil
        var stored: [LiveUnit: [UInt8]] = [:]
    }
    let writer: UInt32 = 0x00C0_FFEE
    private let state = Mutex(State())

    var packCount: Int { state.withLock { $0.stored.count } }
    func holds(_ unit: LiveUnit) -> Bool { state.withLock { $0.stored[unit] != nil } }

    func append(kind: RecordKind, sequence: UInt64, hash: [UInt8], pieces: [UnsafeRawBufferPointer]) throws -> RecordLocation {
        let header = RecordHeader.encode(kind: kind, sequence: sequence, hash: hash, pieces: pieces)
        return state.withLock { st in
            if st.open == nil { st.open = Array("DPSEG001".utf8) + [UInt8](repeating: 0, count: 8) }
            let offset = st.open!.count
            st.open! += header
            for piece in pieces { st.open! += Array(piece) }
            let length = pieces.reduce(0) { $0 + $1.count }
            return LiveUnit(writer: writer, sequence: st.sequence).location(offset: offset, length: UInt32(length))
        }
    }

    private func bytes(_ location: RecordLocation) throws -> [UInt8] {
        let unit = LiveUnit(location)
        let start = Int(location.offset & 0xffff_ffff) + RecordHeader.size
        return try state.withLock { st in
            let pack = unit.sequence == st.sequence && unit.writer == writer ? st.open : st.stored[unit]
            guard let pack, start + Int(location.length) <= pack.count else {
                throw StorageError.corrupt("pack \(unit) is not in the store")
            }
            return Array(pack[start..<start + Int(location.length)])
        }
    }

    func read(_ location: RecordLocation, skip: Int, into buffer: UnsafeMutableRawBufferPointer) throws {
        let payload = try bytes(location)
        payload.withUnsafeBytes { buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[skip..<skip + buffer.count])) }
    }

    func readPayload(_ location: RecordLocation) throws -> [UInt8] { try bytes(location) }
    func prefetch(_ location: RecordLocation) {}
    func ensureRoomForUpload(bytes: Int) throws {}
    func wasDiscarded(_ location: RecordLocation) -> Bool { false }

    @discardableResult func syncDirty() throws -> Int {
        state.withLock { st in
            guard let open = st.open else { return 0 }
            st.stored[LiveUnit(writer: writer, sequence: st.sequence)] = open
            st.open = nil
            st.sequence += 1
            return 1
        }
    }

    func listPacks() throws -> [StoredPack] {
        state.withLock { st in st.stored.map { StoredPack(unit: $0.key, size: $0.value.count, modified: 0) } }
    }

    func downloadPack(_ unit: LiveUnit, size: Int) throws -> [UInt8] {
        try state.withLock { st in
            guard let pack = st.stored[unit] else { throw StorageError.corrupt("pack \(unit) is not in the store") }
            return pack
        }
    }

    func readStored(_ unit: LiveUnit, _ range: Range<Int>) throws -> [UInt8] {
        let pack = try downloadPack(unit, size: 0)
        return Array(pack[min(range.lowerBound, pack.count)..<min(range.upperBound, pack.count)])
    }

    func deletePack(_ unit: LiveUnit) throws { _ = state.withLock { $0.stored.removeValue(forKey: unit) } }
    func forgetCached(_ unit: LiveUnit) {}
}
