import DepotStorage
import Dispatch
import Glibc
import Synchronization
import Testing

@testable import DepotEngine

/// One request of a group commit that fails midway leaves nothing of itself (object, event, tier
/// tasks, outbox count, a log record a rebuild would replay), while the rest of its batch commits.
struct CommitAtomicityTests {
    @Test func aRequestThatFailsMidwayIsUndoneAndItsBatchCommits() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        // The engine must be gone (its data directory lock released) before the rebuild.
        let before = try await failOneRequestOfABatch(configuration)
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.isEmpty)
        let rebuilt = try Engine(configuration: configuration)
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.dump() == before)
        #expect(try rebuilt.fsck().isClean)
    }

    /// Returns the index dump after the failed batch and one more write.
    private func failOneRequestOfABatch(_ configuration: EngineConfiguration) async throws -> [String] {
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        try await engine.createBucket("rec", owner: "me")
        try engine.configureOutbox(kinds: [.created, .removed], maxEvents: 1000, refuseWhenFull: true, onCommitted: nil)
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        try await engine.put("rec", "replaced", [9, 9, 9])
        let eventsBefore = try engine.outboxEvents(after: 0, limit: 10).count

        // Hold the committer on a first request so that the next three queue into one batch. The
        // committer runs on its own queue, so the held request may block there; the test itself
        // only polls: a semaphore wait here would block one of the two cooperative threads a
        // 2-core machine has, and with parallel suites holding the other the committer's request
        // could not even be submitted (the whole test process stalled until the wait timed out).
        let started = StartedFlag()
        let release = DispatchSemaphore(value: 0)
        let holder = Task {
            try await engine.committer.submit { _, _ in
                started.set()
                _ = release.wait(timeout: .now() + 60)
            }
        }
        let startDeadline = ContinuousClock.now + .seconds(60)
        while !started.isSet && ContinuousClock.now < startDeadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(started.isSet)

        let good = Task { try await engine.put("rec", "a", [1, 2, 3]) }
        // Writes its tier task, its event, its log record and its object, then fails: the kind
        // of failure a full disk gives halfway through.
        let failingKey = "fails-after-writing"
        let failing = Task {
            try await engine.committer.submit { txn, context in
                _ = try engine.commitObject(
                    bucket: "rec", key: failingKey, record: ObjectRecord(size: 0, etag: "e", created: Engine.now(), owner: "me"),
                    placements: [], precondition: nil, origin: .s3("Put"), txn: txn, context: context)
                throw FailedMidway()
            }
        }
        let other = Task { try await engine.put("rec", "replaced", [4, 5, 6, 7]) }
        let deadline = ContinuousClock.now + .seconds(60)
        while engine.committer.queuedCount < 3 && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(engine.committer.queuedCount == 3)
        release.signal()
        try await holder.value

        _ = try await good.value
        _ = try await other.value
        await #expect(throws: FailedMidway.self) { try await failing.value }

        #expect(try engine.get("rec", "a") == [1, 2, 3])
        #expect(try engine.get("rec", "replaced") == [4, 5, 6, 7])
        #expect(try engine.dump().allSatisfy { !$0.contains(failingKey) })
        #expect(try engine.headObject(bucket: "rec", key: failingKey) == nil)
        let events = try engine.outboxEvents(after: 0, limit: 10).dropFirst(eventsBefore)
        #expect(events.map(\.key) == ["a", "replaced"] || events.map(\.key) == ["replaced", "a"])
        #expect(engine.outboxCount == eventsBefore + 2)
        #expect(try engine.countOutbox() == eventsBefore + 2)
        let tasks = try engine.dueTasks(now: Engine.now() + 60_000, limit: 100)
        #expect(tasks.map(\.key).sorted() == ["a", "replaced", "replaced"])

        // The committer goes on: a later batch commits, and the index rebuilt from the log alone
        // matches it (the failed request's log record does not come back).
        try await engine.put("rec", "b", [8])
        #expect(try engine.get("rec", "b") == [8])
        return try engine.dump()
    }
}

private struct FailedMidway: Error {}

/// Set once by the held commit request, read by the polling test.
private final class StartedFlag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
