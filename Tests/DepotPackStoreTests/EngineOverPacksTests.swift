import DepotEngine
import DepotStorage
import Foundation
import Testing

@testable import DepotPackStore

/// The engine with `EngineConfiguration.chunkStore` set to a pack store on a real moto_server:
/// objects go into packs (the local segments stay empty), an acknowledged object reads back
/// byte-identical after a restart with a cold cache, and segment maintenance is skipped.
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
            // Segment maintenance has nothing to work on and is skipped.
            let report = try await engine.compact()
            #expect(report.segmentsCompacted == 0 && report.bytesPunched == 0)
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
