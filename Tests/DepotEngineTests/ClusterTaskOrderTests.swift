import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Glibc
import Logging
import Testing

/// Tier tasks of one key on one tier are claimed one at a time across the nodes, in queue order
/// (migration 5's `key_group`, PostgresIndex+Claims.swift), over task rows the engine wrote: so the
/// group PostgreSQL computes from a task's value is the one `TierTask.encoded()` means (same key
/// and tier: one group; another key or tier: another). Enabled when
/// DEPOT_TEST_POSTGRES_TASK_ORDER names a database of its own (claims here would take other
/// suites' tasks): Tests/integration/test_cluster_tier_key_order.py gives it a fresh one.
struct ClusterTaskOrderTests {
    @Test(.enabled(if: postgresTaskOrderLocation != nil)) func aKeysTasksWaitForItsEarlierOnesOnEveryNode() async throws {
        let location = try #require(postgresTaskOrderLocation)
        let logger = Logger(label: "cluster-task-order-tests")
        _ = try await ClusterDatabase.using(location, logger: logger) { try await SchemaMigrator(database: $0).migrate() }
        let index = PostgresIndex(location: location, claimant: "node-a", leaseSeconds: 30, logger: logger)
        let other = PostgresIndex(location: location, claimant: "node-b", leaseSeconds: 30, logger: logger)
        let brief = PostgresIndex(location: location, claimant: "node-c", leaseSeconds: 1, logger: logger)
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path), indexStore: index)
        defer { engine.shutdown() }
        let tasks = other.table(IndexTable.tasks.rawValue)
        let bucket = "order"
        let key = "cam/ünï \(String(repeating: "x", count: 300)).mp4"  // a two-byte length prefix
        try await engine.createBucket(bucket, owner: "me")
        engine.setReplicationPlanner { _, _, _ in ["nas", "cold"] }
        _ = try await engine.put(bucket, key, [1])
        let older = try #require(try engine.headObject(bucket: bucket, key: key)).created
        _ = try await engine.put(bucket, key, [2])
        let newer = try #require(try engine.headObject(bucket: bucket, key: key)).created
        _ = try await engine.put(bucket, "other.mp4", [3])
        #expect(older != newer)
        let due = Engine.now() + 60_000

        // Node a takes the first task of each key on each tier; the newer object's wait.
        let first = try engine.claimDueTasks(now: due, limit: 10)
        #expect(
            Set(first.map { "\($0.key.prefix(3)) \($0.tier) \($0.objectCreated == newer)" })
                == ["cam nas false", "cam cold false", "oth nas false", "oth cold false"])
        // Node b finds nothing: what is not held waits behind what is, in both claim statements.
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).isEmpty)
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: { _, _ in true }).isEmpty)

        // Given back unrun, the older object's task is the one another node takes, not the newer's.
        let camNas = try #require(first.first { $0.key == key && $0.tier == "nas" })
        try engine.releaseTaskClaims([camNas.handle])
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [camNas.handle])
        // Done (its row gone): the newer object's task on that tier comes next, on any node.
        #expect(try other.remove(tasks, keys: [camNas.handle]) == 1)
        let next = try engine.claimDueTasks(now: due, limit: 10)
        #expect(next.map { "\($0.tier) \($0.objectCreated == newer)" } == ["nas true"])

        // A lease that lapses (its node died) frees the task it held for another node, and only
        // that task: the newer one still waits behind it.
        let camCold = try #require(first.first { $0.key == key && $0.tier == "cold" })
        try engine.releaseTaskClaims([camCold.handle])
        #expect(try brief.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [camCold.handle])
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).isEmpty)
        usleep(1_500_000)
        #expect(try other.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key) == [camCold.handle])

        // A row whose value the group function cannot read (NULL group) waits for nobody.
        try other.write { txn in try txn.put(tasks, [0, 0, 0, 0, 0, 0, 0, 0, 1], [9, 9]) }
        try other.write { txn in try txn.put(tasks, [0, 0, 0, 0, 0, 0, 0, 0, 2], [9, 9]) }
        #expect(
            try brief.claim(tasks, through: nil, limit: 10, scanLimit: 100, accept: nil).map(\.key)
                == [[0, 0, 0, 0, 0, 0, 0, 0, 1], [0, 0, 0, 0, 0, 0, 0, 0, 2]])
    }
}

/// The database DEPOT_TEST_POSTGRES_TASK_ORDER names; nil when unset.
var postgresTaskOrderLocation: PostgresLocation? {
    guard let url = getenv("DEPOT_TEST_POSTGRES_TASK_ORDER").map({ String(cString: $0) }), !url.isEmpty else { return nil }
    return try? PostgresLocation.parse(url)
}
