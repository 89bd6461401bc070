import DepotEngine
import Testing
import TestRandomness

/// A HEAD opens an `ObjectHead` (`Engine.openObjectHead`): the record only, with no chunk locations
/// and no way to read bytes, so reading from it does not compile (it was a runtime trap when a
/// HEAD opened an `ObjectReader` without locations).
struct ObjectHeadTests {
    @Test func aHeadOpensTheRecordAReaderOpens() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("rec", owner: "me")
        var random = SplitMix64(seed: 17)
        let data = random.bytes(200_000)
        let record = try await engine.put("rec", "clip", data)

        let head = try #require(try engine.openObjectHead(bucket: "rec", key: "clip"))
        let reader = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        #expect(head.record.etag == record.etag)
        #expect(head.record.size == UInt64(data.count))
        #expect(head.record.versionId == reader.record.versionId)
        #expect(head.isLocal)
        #expect(try reader.readAll() == data)
        #expect(try engine.openObjectHead(bucket: "rec", key: "missing") == nil)
    }

    @Test func aHeadOfAnEvictedObjectNeedsNoTier() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("rec", owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        let record = try await engine.put("rec", "clip", Array(repeating: 7, count: 50_000))
        for task in try engine.dueTasks(now: Engine.now() + 60_000) { try await engine.finishTask(task, outcome: .completed) }
        #expect(try await engine.evict(bucket: "rec", key: "clip", created: record.created, confirmedOn: ["nas"]))

        let head = try #require(try engine.openObjectHead(bucket: "rec", key: "clip"))
        #expect(!head.isLocal)
        #expect(head.record.etag == record.etag)
    }
}
