import DepotEngine
import Testing

@Suite struct ReplicationVersionTests {
    /// Tier tasks name the object version they copy by its creation time. Two uploads of one key
    /// committed together usually take their time in the same millisecond: before versions were
    /// made strictly newer than the one they replace, the replaced version's finished copy marked
    /// the new version COMPLETED (and the new version's own task was then skipped as done, so
    /// the tier kept the old bytes). 20 pairs, each committed at once: every pair must come out
    /// with distinct times, and the replaced version's task must leave the new one PENDING.
    @Test func aReplacedVersionsCopyNeverCompletesTheVersionThatReplacedIt() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        try await engine.createBucket("rec", owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["cloud"] }
        for round in 0..<20 {
            let key = "clip-\(round)"
            let first = try engine.startIngest(bucket: "rec", key: key)
            let second = try engine.startIngest(bucket: "rec", key: key)
            try first.write([1])
            try second.write([2])
            async let firstCommit = first.commit(metadata: ObjectMetadata(owner: "me"))
            async let secondCommit = second.commit(metadata: ObjectMetadata(owner: "me"))
            let (a, b) = try await (firstCommit, secondCommit)
            let current = try #require(try engine.openObject(bucket: "rec", key: key)?.record)
            let replaced = current.etag == a.etag ? b : a
            #expect(current.created > replaced.created, "round \(round)")

            let tasks = try engine.dueTasks(now: .max).filter { $0.key == key }
            #expect(tasks.count == 2)
            // Queue order is commit order: the replaced version's task comes first.
            let replacedTask = try #require(tasks.first { $0.objectCreated == replaced.created })
            try await engine.finishTask(replacedTask, outcome: .completed)
            let after = try #require(try engine.openObject(bucket: "rec", key: key)?.record)
            #expect(after.replicas.map(\.state) == [.pending], "round \(round)")
            for task in tasks where task.handle != replacedTask.handle {
                try await engine.finishTask(task, outcome: .completed)
            }
        }
    }
}
