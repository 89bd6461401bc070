import DepotEngine
import Foundation
import Testing

@Suite struct OutboxTests {
    func engine() throws -> (Engine, String) {
        let dir = NSTemporaryDirectory() + "outbox-\(UUID().uuidString)"
        let engine = try Engine(configuration: EngineConfiguration(dataDirectory: dir))
        return (engine, dir)
    }

    func put(_ engine: Engine, _ key: String, _ bytes: [UInt8] = [1, 2, 3]) async throws {
        let session = try engine.startIngest(bucket: "rec", key: key)
        try session.write(bytes)
        _ = try await session.commit(metadata: ObjectMetadata(owner: "me"))
    }

    @Test func eventsAreWrittenWithTheirChangeAndOnlyWhenWanted() async throws {
        let (engine, dir) = try engine()
        defer {
            engine.shutdown()
            try? FileManager.default.removeItem(atPath: dir)
        }
        try await engine.createBucket("rec", owner: "me")
        try await put(engine, "before")
        #expect(try engine.outboxEvents(after: 0, limit: 10).isEmpty)  // no sink wants anything yet
        try engine.configureOutbox(kinds: [.created, .removed], maxEvents: 1000, refuseWhenFull: true, onCommitted: nil)
        try await put(engine, "a")
        try await engine.deleteObject(bucket: "rec", key: "a")
        let events = try engine.outboxEvents(after: 0, limit: 10)
        #expect(events.map(\.kind) == [.created, .removed])
        #expect(events.map(\.key) == ["a", "a"])
        #expect(events[0].sequence < events[1].sequence)
        #expect(events[0].size == 3 && events[0].principal == "me" && events[0].operation == "Put")
        #expect(try engine.outboxEvents(after: events[0].sequence, limit: 10).map(\.kind) == [.removed])
        // Cursors persist; trimming removes what every sink passed.
        try await engine.setEventCursor(sink: "s", to: events[0].sequence)
        #expect(try engine.eventCursor(sink: "s") == events[0].sequence)
        #expect(try await engine.trimOutbox(through: events[0].sequence) == 1)
        #expect(engine.outboxCount == 1)
    }

    @Test func aFullOutboxRefusesNewObjectsButNotDeletes() async throws {
        let (engine, dir) = try engine()
        defer {
            engine.shutdown()
            try? FileManager.default.removeItem(atPath: dir)
        }
        try await engine.createBucket("rec", owner: "me")
        try engine.configureOutbox(kinds: [.created, .removed], maxEvents: 2, refuseWhenFull: true, onCommitted: nil)
        try await put(engine, "1")
        try await put(engine, "2")
        await #expect(throws: EngineError.outboxFull) { try await put(engine, "3") }
        #expect(try engine.headObject(bucket: "rec", key: "3") == nil)
        try await engine.deleteObject(bucket: "rec", key: "1")
        #expect(engine.outboxCount == 3)
    }
}
