import DepotEngine
import Foundation
import Testing

@Suite struct PlannerTests {
    /// Every commit reads the replication planner. Stored as a bare function in a Mutex, each
    /// read wrapped it in one more thunk, and after some 16,000 commits calling it overflowed the
    /// stack. 20,000 commits must leave it callable.
    @Test func theReplicationPlannerSurvivesManyCommits() async throws {
        let dir = NSTemporaryDirectory() + "planner-\(UUID().uuidString)"
        let engine = try Engine(configuration: EngineConfiguration(dataDirectory: dir))
        defer {
            engine.shutdown()
            try? FileManager.default.removeItem(atPath: dir)
        }
        try await engine.createBucket("rec", owner: "me")
        let calls = Counter()
        engine.setReplicationPlanner { _, _, _ in
            calls.increment()
            return []
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for worker in 0..<32 {
                group.addTask {
                    for i in stride(from: worker, to: 20_000, by: 32) {
                        let session = try engine.startIngest(bucket: "rec", key: "k\(i)")
                        try session.write([UInt8(i & 0xFF)])
                        _ = try await session.commit(metadata: ObjectMetadata(owner: "me"))
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(calls.value == 20_000)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var count = 0
        func increment() { lock.withLock { count += 1 } }
        var value: Int { lock.withLock { count } }
    }
}
