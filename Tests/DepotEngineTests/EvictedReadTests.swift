import DepotEngine
import Testing
import TestRandomness

/// `ObjectReader.bytes` is the one way to an object's bytes: after a transition it reads through
/// from the tier, and it fails rather than deliver an evicted object empty or short.
struct EvictedReadTests {
    /// An object replicated to "nas" (confirmed) and then evicted, as the tiering part does it.
    func evictedObject(_ engine: Engine, _ data: [UInt8]) async throws -> ObjectRecord {
        try await engine.createBucket("rec", owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        let record = try await engine.put("rec", "clip", data)
        for task in try engine.dueTasks(now: Engine.now() + 60_000) { try await engine.finishTask(task, outcome: .completed) }
        #expect(try await engine.evict(bucket: "rec", key: "clip", created: record.created, confirmedOn: ["nas"]))
        return record
    }

    func collect(_ bytes: ObjectBytes) async throws -> [UInt8] {
        var out: [UInt8] = []
        for try await piece in bytes {
            var buffer = [UInt8](repeating: 0, count: piece.count)
            try buffer.withUnsafeMutableBytes { try piece.copy(into: $0) }
            out += buffer
        }
        return out
    }

    @Test func evictedObjectsReadThroughOrFailButNeverReadEmpty() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        var random = SplitMix64(seed: 5)
        let data = random.bytes(300_000)
        _ = try await evictedObject(engine, data)

        // No read-through installed: refused at once, not an empty body.
        let unserved = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        #expect(!unserved.isLocal)
        #expect(throws: EngineError.invalidObjectState("clip")) { _ = try unserved.bytes(0..<10) }
        #expect(throws: EngineError.invalidObjectState("clip")) { _ = try unserved.readAll() }

        // A tier that has the bytes serves any range of them.
        engine.setReadThrough { _, _, _, range in
            AsyncThrowingStream { continuation in
                continuation.yield(Array(data[Int(range.lowerBound)..<Int(range.upperBound)]))
                continuation.finish()
            }
        }
        let reader = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        #expect(try await collect(try reader.bytes(0..<UInt64(data.count))) == data)
        #expect(try await collect(try reader.bytes(1000..<2000)) == Array(data[1000..<2000]))

        // A tier that ends short (or sends too much) fails the read.
        engine.setReadThrough { _, _, _, range in
            AsyncThrowingStream { continuation in
                continuation.yield(Array(data[Int(range.lowerBound)..<Int(range.upperBound) - 1]))
                continuation.finish()
            }
        }
        let short = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        await #expect(throws: EngineError.self) { _ = try await collect(try short.bytes(0..<UInt64(data.count))) }
        engine.setReadThrough { _, _, _, _ in
            AsyncThrowingStream { continuation in
                continuation.yield(data)
                continuation.finish()
            }
        }
        let long = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        await #expect(throws: EngineError.self) { _ = try await collect(try long.bytes(0..<10)) }

        // No tier can serve it: refused before anything is read.
        struct NoTier: Error {}
        engine.setReadThrough { _, _, _, _ in throw NoTier() }
        let none = try #require(try engine.openObject(bucket: "rec", key: "clip"))
        #expect(throws: EngineError.invalidObjectState("clip")) { _ = try none.bytes(0..<10) }

        // A local object reads the same way, from its chunks.
        try await engine.put("rec", "local", data)
        let local = try #require(try engine.openObject(bucket: "rec", key: "local"))
        #expect(try await collect(try local.bytes(5..<250_000)) == Array(data[5..<250_000]))
    }
}
