import DepotEngine
import DepotStorage
import Foundation
import Testing

@testable import DepotPackStore

/// The engine with `EngineConfiguration.chunkStore` set to a pack store on a real moto_server:
/// objects go into packs (the local segments stay empty), an acknowledged object reads back
/// byte-identical after a restart with a cold cache, and compaction over packs loses nothing.
struct EngineOverPacksTests {
    func configuration(_ data: String, _ store: PackChunkStore) -> EngineConfiguration {
        var configuration = EngineConfiguration(
            dataDirectory: data, chunking: ChunkerParameters(minimum: 4 << 10, average: 16 << 10, maximum: 64 << 10),
            segmentSize: 1 << 20)
        configuration.chunkStore = store
        return configuration
    }

    func put(_ engine: Engine, _ bucket: String, _ key: String, _ bytes: [UInt8]) async throws {
        let session = try engine.startIngest(bucket: bucket, key: key)
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 50_000)
            try session.write(Array(bytes[offset..<end]))
            offset = end
        }
        _ = try await session.commit(metadata: ObjectMetadata(owner: "tester"))
    }

    @Test func objectsLiveInPacksAndSurviveARestartWithAColdCache() async throws {
        let scratch = Scratch()
        defer { scratch.remove() }
        let moto = try MotoServer()
        defer { moto.stop() }
        let data = scratch.directory()
        let first = try PackChunkStore(
            settings: PackChunkStoreTests.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        try first.createBucketIfMissing()
        let bytes = PackChunkStoreTests.payload(11, size: 700_001)
        do {
            let engine = try Engine(configuration: configuration(data, first))
            try await engine.createBucket("videos", owner: "tester")
            try await put(engine, "videos", "cam1/a.mp4", bytes)
            try await put(engine, "videos", "cam1/copy.mp4", bytes)  // deduplicated
            #expect(try engine.openObject(bucket: "videos", key: "cam1/a.mp4")?.readAll() == bytes)
            #expect(first.bufferedBytes == 0, "a commit returns only once its packs are stored")
            #expect(first.packsStored > 0)
            // Compaction works on the packs (PackCompaction.swift): the packs of log records alone
            // (the bucket's, the deduplicated copy's commit) are merged into one, the first
            // object's pack (all live) stays, nothing is lost, and no hole is punched (no segment).
            let report = try await engine.compact()
            #expect(report.bytesPunched == 0 && report.segmentsCompacted == 2)
            #expect(try engine.openObject(bucket: "videos", key: "cam1/copy.mp4")?.readAll() == bytes)
            engine.shutdown()
        }
        first.shutdown()
        let segmentFiles = (try? FileManager.default.contentsOfDirectory(atPath: data + "/segments")) ?? []
        #expect(segmentFiles.filter { $0.hasSuffix(".seg") }.isEmpty, "no record went to a local segment")

        let second = try PackChunkStore(
            settings: PackChunkStoreTests.settings(endpoint: moto.endpoint, cache: scratch.directory()))
        defer { second.shutdown() }
        let engine = try Engine(configuration: configuration(data, second))
        defer { engine.shutdown() }
        #expect(try engine.openObject(bucket: "videos", key: "cam1/copy.mp4")?.readAll() == bytes)
        let reader = try #require(try engine.openObject(bucket: "videos", key: "cam1/a.mp4"))
        #expect(try reader.readAll(123_456..<654_321) == Array(bytes[123_456..<654_321]))
        #expect(second.rangeGetsSent > 0)
    }
}
