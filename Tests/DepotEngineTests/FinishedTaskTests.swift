import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Logging
import Testing

/// A tier task finished a second time changes nothing: in cluster mode a node whose claim lapsed
/// (it stalled; another node took the task over and finished it) still reports its outcome, and
/// recording it again would apply it twice (a late failure turning a COMPLETED copy back to
/// PENDING with a second retry task, or a second Replicated event).
struct FinishedTaskTests {
    func finishTwice(_ engine: Engine, bucket: String) async throws {
        try engine.configureOutbox(
            kinds: [.replicated, .replicationFailed], maxEvents: 1000, refuseWhenFull: true, onCommitted: nil)
        try await engine.createBucket(bucket, owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        _ = try await engine.put(bucket, "clip", [1, 2, 3])
        let tasks = try engine.claimDueTasks(now: Engine.now() + 60_000)
        let task = try #require(tasks.first)
        #expect(tasks.count == 1)
        try await engine.finishTask(task, outcome: .completed)
        try await engine.finishTask(task, outcome: .failed(error: "late", retryAt: Engine.now(), giveUp: false))
        try await engine.finishTask(task, outcome: .completed)
        let record = try #require(try engine.headObject(bucket: bucket, key: "clip"))
        #expect(record.replicas.map(\.state) == [.completed])
        #expect(record.replicas.first?.lastError == "")
        #expect(try engine.dueTasks(now: .max).isEmpty)
        let events = try engine.outboxEvents(after: 0, limit: 100).filter { $0.bucket == bucket }
        #expect(events.map(\.kind) == [.replicated])
    }

    @Test func embedded() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await finishTwice(engine, bucket: "rec")
    }

    /// Over the PostgreSQL index, with the task claimed as a node claims it: the other node
    /// cannot claim it meanwhile, and finishing it removes the row and its claim.
    @Test(.enabled(if: postgresEngineLocation != nil)) func cluster() async throws {
        let location = try #require(postgresEngineLocation)
        let logger = Logger(label: "finished-task-tests")
        _ = try await ClusterDatabase.using(location, logger: logger) { try await SchemaMigrator(database: $0).migrate() }
        let index = PostgresIndex(location: location, claimant: "node-a", leaseSeconds: 30, logger: logger)
        let other = PostgresIndex(location: location, claimant: "node-b", leaseSeconds: 30, logger: logger)
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path), indexStore: index)
        defer { engine.shutdown() }
        #expect(engine.claimsWork)
        let bucket = "finished-\(UInt32.random(in: 0..<UInt32.max))"
        try await engine.createBucket(bucket, owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        _ = try await engine.put(bucket, "held", [9])
        let held = try engine.claimDueTasks(now: Engine.now() + 60_000)
        #expect(held.count == 1)
        let tasks = other.table(IndexTable.tasks.rawValue)
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).isEmpty)
        #expect(try engine.renewTaskClaims(held.map(\.handle)).count == 1)
        try await engine.finishTask(held[0], outcome: .completed)
        #expect(try engine.renewTaskClaims(held.map(\.handle)).isEmpty)
        _ = try await engine.deleteObject(bucket: bucket, key: "held")
        engine.setReplicationPlanner(nil)
        try await finishTwice(engine, bucket: bucket + "-2")

        // A tier that answers again has its waiting tasks moved to now (`retryNow`): not one that
        // another node holds (its probe runs it), which would then be run twice.
        engine.setReplicationPlanner { _, _, _ in ["nas"] }
        _ = try await engine.put(bucket, "later", [7])
        let first = try engine.claimDueTasks(now: Engine.now() + 60_000)
        #expect(first.count == 1)
        try await engine.finishTask(first[0], outcome: .failed(error: "down", retryAt: Engine.now() + 600_000, giveUp: false))
        let probe = try other.claim(tasks, through: nil, limit: 1, scanLimit: 100, accept: nil)
        #expect(probe.count == 1)
        #expect(try await engine.retryNow(tier: "nas") == 0)
        try other.release(tasks, keys: probe.map(\.key))
        #expect(try await engine.retryNow(tier: "nas") == 1)
        #expect(try engine.claimDueTasks(now: Engine.now() + 1000).map(\.key) == ["later"])
    }
}
