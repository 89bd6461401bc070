import DepotHashing
import DepotStorage
import Synchronization

/// Decides, inside an object's commit, which tiers must receive a copy (the tiering part's
/// policies). It must be fast and must not block: it runs on the committer thread.
public typealias ReplicationPlanner = @Sendable (_ bucket: String, _ key: String, _ record: ObjectRecord) -> [String]

/// What happened to one tier task.
public enum TaskOutcome: Sendable {
    case completed
    /// Try again at `retryAt` (ms since epoch); `giveUp` marks the replica FAILED instead.
    case failed(error: String, retryAt: Int64, giveUp: Bool)
}

/// Decides, inside a delete's commit, which tiers' confirmed copies must be deleted too.
/// `byVersion`: the DELETE named this version (S3 replication rules do not propagate those).
public typealias DeletePlanner =
    @Sendable (
        _ bucket: String, _ key: String, _ record: ObjectRecord, _ byVersion: Bool
    ) -> [String]

/// Where a tier keeps a version's own copy (policies with `replicate.versions: all`): under a
/// prefix of its own, apart from the plain keys other readers of the tier list and read, and
/// named by the version id first, which is unique in the store, so no version's key can be a
/// folder of another's on a filesystem tier. The current version is also at its plain key.
public enum VersionCopyKey {
    public static let prefix = ".depot-versions/"
    public static func key(_ key: String, versionId: String) -> String { prefix + versionId + "/" + key }
    /// Only versions with an id of their own get a copy: a `null` version is replaced in place.
    public static func versionId(of record: ObjectRecord) -> String? {
        guard let id = record.versionId, id != "null", !record.isDeleteMarker else { return nil }
        return id
    }
}

final class PlannerBox: Sendable {
    let planner = Mutex<FunctionBox<ReplicationPlanner>?>(nil)
    /// Of the planned tiers, those whose policy takes every version (`replicate.versions: all`).
    let versionPlanner = Mutex<FunctionBox<ReplicationPlanner>?>(nil)
    let deletePlanner = Mutex<FunctionBox<DeletePlanner>?>(nil)
    let taskCounter = Atomic<UInt64>(0)
}

extension Engine {
    /// Installs (or replaces, on a configuration reload) the replication planner.
    public func setReplicationPlanner(_ planner: ReplicationPlanner?) {
        plannerBox.planner.withLock { $0 = planner.map(FunctionBox.init) }
    }

    /// Installs the planner naming the tiers that keep every version of a matching object.
    public func setVersionReplicationPlanner(_ planner: ReplicationPlanner?) {
        plannerBox.versionPlanner.withLock { $0 = planner.map(FunctionBox.init) }
    }

    /// Called inside the commit of a DELETE with versionId: queues deletes of that version's own
    /// copies (`VersionCopyKey`) on the tiers whose policy propagates deletes and keeps every
    /// version, where the version's copy was confirmed.
    func planVersionCopyDeletes(bucket: String, key: String, record: ObjectRecord, txn: borrowing Transaction) throws {
        guard let versionId = VersionCopyKey.versionId(of: record),
            let deleting = plannerBox.deletePlanner.withLock({ $0 })?.function,
            let versioned = plannerBox.versionPlanner.withLock({ $0 })?.function
        else { return }
        let keeping = Set(versioned(bucket, key, record))
        let table = indexStore.table(.tasks)
        let now = Engine.now()
        for tier in deleting(bucket, key, record, true)
        where keeping.contains(tier) && record.replicas.contains(where: { $0.tier == tier && $0.state == .completed }) {
            var task = TierTask(
                kind: .delete, bucket: bucket, key: VersionCopyKey.key(key, versionId: versionId),
                objectCreated: record.created, tier: tier)
            task.everyVersion = true
            try txn.put(table, TierTask.tableKey(due: now, id: nextTaskId()), task.encoded())
        }
    }

    /// Called when a DELETE with versionId makes an older version current again (the newer
    /// version or the delete marker above it was removed): the tiers' plain keys must hold it
    /// again, so each planned tier that had confirmed it gets a copy queued (its own
    /// `VersionCopyKey` copy stays). A pending copy's task already writes the plain key; an
    /// evicted version is left as it is, as its copy could only be read from the plain key.
    func replanPromotedVersion(
        bucket: String, key: String, record: inout ObjectRecord, txn: borrowing Transaction
    ) throws {
        guard record.localState == .present, let planner = plannerBox.planner.withLock({ $0 })?.function else { return }
        let table = indexStore.table(.tasks)
        let now = Engine.now()
        for tier in planner(bucket, key, record) {
            guard let index = record.replicas.firstIndex(where: { $0.tier == tier && $0.state == .completed }) else {
                continue
            }
            record.replicas[index].state = .pending
            record.replicas[index].updated = now
            let task = TierTask(kind: .replicate, bucket: bucket, key: key, objectCreated: record.created, tier: tier)
            try txn.put(table, TierTask.tableKey(due: now, id: nextTaskId()), task.encoded())
        }
    }

    /// The version a replicate task copies: the current object when it is the one, else (for a
    /// task of a policy keeping every version) the version of the key made at `objectCreated`,
    /// looked up among at most the key's 10,000 newest versions.
    func taskVersion(_ task: TierTask, txn: borrowing Transaction) throws -> (record: ObjectRecord, isCurrent: Bool)? {
        if let current = try txn.object(objects, bucket: task.bucket, key: task.key), current.created == task.objectCreated {
            return (current, true)
        }
        guard task.everyVersion else { return nil }
        let older = try txn.versions(versionTable, bucket: task.bucket, key: task.key, limit: 10_000)
        guard let version = older.first(where: { $0.created == task.objectCreated && !$0.isDeleteMarker }) else {
            return nil
        }
        return (version, false)
    }

    /// The order of the version a replicate task copies, when it is no longer the current one
    /// (nil: gone, or the task is not for every version).
    public func olderVersionOrder(of task: TierTask) throws -> UInt64? {
        let engine = self
        return try indexStore.read { txn in
            guard let found = try engine.taskVersion(task, txn: txn), !found.isCurrent else { return nil }
            return found.record.versionOrder
        }
    }

    /// Installs the planner that propagates deletes to tiers (off unless a policy asks).
    public func setDeletePlanner(_ planner: DeletePlanner?) {
        plannerBox.deletePlanner.withLock { $0 = planner.map(FunctionBox.init) }
    }

    /// Called inside a delete's commit: queues deletes of the tiers' confirmed copies.
    /// `byVersion`: a DELETE naming the version (not one that made a delete marker or removed an
    /// unversioned object).
    func planDeletes(
        bucket: String, key: String, record: ObjectRecord, byVersion: Bool = false, txn: borrowing Transaction
    ) throws {
        guard let planner = plannerBox.deletePlanner.withLock({ $0 })?.function else { return }
        let table = indexStore.table(.tasks)
        let now = Engine.now()
        for tier in planner(bucket, key, record, byVersion)
        where record.replicas.contains(where: { $0.tier == tier && $0.state == .completed }) {
            let task = TierTask(kind: .delete, bucket: bucket, key: key, objectCreated: record.created, tier: tier)
            try txn.put(table, TierTask.tableKey(due: now, id: nextTaskId()), task.encoded())
        }
    }

    /// Called by every commit that creates an object version: marks the planned tiers PENDING
    /// and writes their tasks in the same transaction, so a crash never loses one. `previous` is
    /// the key's `objects` entry the commit read in this transaction (the version it replaces or
    /// displaces), passed in so the commit reads it once (in cluster mode each read is a
    /// PostgreSQL round trip inside the commit).
    func planReplication(
        bucket: String, key: String, record: inout ObjectRecord, previous: ObjectRecord?, txn: borrowing Transaction
    ) throws {
        // A tier task names the version it copies by its creation time (`finishTask` and the
        // workers drop a task whose version is gone), so two versions of one key must never
        // share it. They did when two uploads of the key took their time in the same
        // millisecond (or the later commit took it first): the older version's finished copy
        // then marked the newer one COMPLETED, the newer one's task was skipped as already
        // done, and the tier kept the old bytes. A new version is made at least 1 ms newer
        // than the one it replaces, in the commit that replaces it.
        if let previous, previous.created >= record.created { record.created = previous.created + 1 }
        guard let planner = plannerBox.planner.withLock({ $0 })?.function else { return }
        let tiers = planner(bucket, key, record)
        guard !tiers.isEmpty else { return }
        let everyVersion = Set(plannerBox.versionPlanner.withLock({ $0 })?.function(bucket, key, record) ?? [])
        let now = Engine.now()
        record.replicas = tiers.map { TierReplica(tier: $0, state: .pending, updated: now) }
        let table = indexStore.table(.tasks)
        for tier in tiers {
            var task = TierTask(kind: .replicate, bucket: bucket, key: key, objectCreated: record.created, tier: tier)
            task.everyVersion = everyVersion.contains(tier)
            try txn.put(table, TierTask.tableKey(due: now, id: nextTaskId()), task.encoded())
        }
    }

    func nextTaskId() -> UInt64 {
        // Time-seeded so ids stay unique across restarts without a stored counter.
        let base = UInt64(Engine.now()) << 20
        return base | (plannerBox.taskCounter.wrappingAdd(1, ordering: .relaxed).newValue & 0xFFFFF)
    }

    /// Tasks due at `now` or earlier, oldest first, leaving out those for `skipping` tiers (paused,
    /// full or outside their window) so a long backlog for one tier cannot hide another tier's
    /// tasks. At most `scanLimit` due entries are looked at per call.
    public func dueTasks(
        now: Int64 = Engine.now(), limit: Int = 64, skipping: Set<String> = [], scanLimit: Int = 8192
    ) throws -> [TierTask] {
        let table = indexStore.table(.tasks)
        return try indexStore.read { txn in
            var tasks: [TierTask] = []
            var scanned = 0
            try txn.scan(table) { key, value in
                guard TierTask.dueTime(of: key) <= now, tasks.count < limit, scanned < scanLimit else { return false }
                scanned += 1
                var task = try TierTask.decode(value)
                guard !skipping.contains(task.tier) else { return true }
                task.handle = Array(key)
                tasks.append(task)
                return true
            }
            return tasks
        }
    }

    /// Number of queued tasks and the due time of the oldest, per tier.
    public func taskBacklog() throws -> [String: (count: Int, oldestDue: Int64)] {
        let table = indexStore.table(.tasks)
        return try indexStore.read { txn in
            var backlog: [String: (Int, Int64)] = [:]
            try txn.scan(table) { key, value in
                let task = try TierTask.decode(value)
                let due = TierTask.dueTime(of: key)
                let current = backlog[task.tier] ?? (0, due)
                backlog[task.tier] = (current.0 + 1, min(current.1, due))
                return true
            }
            return backlog
        }
    }

    /// Records a task's outcome on the object it was for, and removes or reschedules the task.
    /// A task whose object has since changed or gone is simply dropped; a task no longer queued
    /// (finished already) changes nothing.
    public func finishTask(_ task: TierTask, outcome: TaskOutcome) async throws {
        let engine = self
        let table = indexStore.table(.tasks)
        do {
            try await committer.submit { txn, context in
                // Already finished (a node whose claim lapsed while another node took the task
                // over and finished it, or a cancel racing the run): its outcome was recorded
                // then, and recording this one too would apply it twice (a second retry task, a
                // second Replicated event).
                guard try txn.delete(table, task.handle) else { return }
                if task.kind == .delete {
                    // The object is gone locally; only the tier's copy is at stake.
                    if case .failed(_, let retryAt, let giveUp) = outcome, !giveUp {
                        var next = task
                        next.attempts += 1
                        try txn.put(table, TierTask.tableKey(due: retryAt, id: engine.nextTaskId()), next.encoded())
                    }
                    return
                }
                // The version it copies: current, or (every-version tasks) displaced since.
                guard let found = try engine.taskVersion(task, txn: txn),
                    let index = found.record.replicas.firstIndex(where: { $0.tier == task.tier })
                else { return }
                var record = found.record
                let isCurrent = found.isCurrent
                let now = Engine.now()
                switch outcome {
                case .completed:
                    record.replicas[index].state = .completed
                    record.replicas[index].lastError = ""
                case .failed(let error, let retryAt, let giveUp):
                    record.replicas[index].state = giveUp ? .failed : .pending
                    record.replicas[index].lastError = error
                    if !giveUp {
                        var next = task
                        next.attempts += 1
                        try txn.put(table, TierTask.tableKey(due: retryAt, id: engine.nextTaskId()), next.encoded())
                    }
                }
                record.replicas[index].attempts = task.attempts + 1
                record.replicas[index].updated = now
                // Logged like any metadata change, so a rebuilt index keeps the state.
                let (location, sequence) = try context.log(.objectCommit(bucket: task.bucket, key: task.key, record: record))
                let state = record.replicas[index].state
                if state == .completed || state == .failed {
                    try engine.recordEvent(
                        EventRecord(
                            kind: state == .completed ? .replicated : .replicationFailed,
                            operation: state == .completed ? "Replication" : "ReplicationFailed", bucket: task.bucket,
                            key: task.key, size: record.size, etag: record.etag, userMetadata: record.userMetadata,
                            principal: record.owner, source: "depot", request: task.onDemand ? "ondemand" : "persist",
                            tier: task.tier, detail: record.replicas[index].lastError),
                        sequence: sequence, txn: txn, context: context)
                }
                record.commitLocation = location
                record.sequence = sequence
                if isCurrent {
                    try txn.putObject(engine.objects, bucket: task.bucket, key: task.key, record)
                } else {
                    // An older version's entry holds its own state (and its chunk references).
                    try txn.putVersion(engine.versionTable, bucket: task.bucket, key: task.key, record)
                }
            }
        } catch { throw EngineError.wrap(error) }
    }
}

extension Engine {
    /// Queues again the FAILED copy on `tier` of an older version (one a newer version replaced;
    /// the current one goes through `requestReplication`): the copy goes to the version's own
    /// key. Returns false, changing nothing, when that version or its failed copy is not there.
    @discardableResult
    public func retryVersionReplication(bucket: String, key: String, order: UInt64, tier: String) async throws -> Bool {
        let engine = self
        let table = indexStore.table(.tasks)
        do {
            return try await committer.submit { txn, context in
                if let current = try txn.object(engine.objects, bucket: bucket, key: key, withManifest: false),
                    current.effectiveOrder == order
                {
                    return false
                }
                guard var record = try txn.versionEntry(engine.versionTable, bucket: bucket, key: key, order: order),
                    !record.isDeleteMarker,
                    let index = record.replicas.firstIndex(where: { $0.tier == tier && $0.state == .failed })
                else { return false }
                record.replicas[index].state = .pending
                record.replicas[index].updated = Engine.now()
                var task = TierTask(
                    kind: .replicate, bucket: bucket, key: key, objectCreated: record.created, tier: tier, onDemand: true)
                task.everyVersion = true
                try txn.put(table, TierTask.tableKey(due: Engine.now(), id: engine.nextTaskId()), task.encoded())
                let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                record.commitLocation = location
                record.sequence = sequence
                try txn.putVersion(engine.versionTable, bucket: bucket, key: key, record)
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// On-demand replication: queues a copy of the current version of an object to each tier
    /// that does not already hold it. Returns false when the object does not exist.
    @discardableResult
    public func requestReplication(bucket: String, key: String, tiers: [String]) async throws -> Bool {
        let engine = self
        let table = indexStore.table(.tasks)
        do {
            return try await committer.submit { txn, context in
                guard var record = try txn.object(engine.objects, bucket: bucket, key: key) else { return false }
                let now = Engine.now()
                var queued = false
                let everyVersion = Set(
                    engine.plannerBox.versionPlanner.withLock({ $0 })?.function(bucket, key, record) ?? [])
                for tier in tiers {
                    if let i = record.replicas.firstIndex(where: { $0.tier == tier }) {
                        // Already there, or already on its way: an idempotent request.
                        if record.replicas[i].state != .failed { continue }
                        record.replicas[i].state = .pending
                        record.replicas[i].updated = now
                    } else {
                        record.replicas.append(TierReplica(tier: tier, state: .pending, updated: now))
                    }
                    var task = TierTask(
                        kind: .replicate, bucket: bucket, key: key, objectCreated: record.created, tier: tier, onDemand: true)
                    task.everyVersion = everyVersion.contains(tier)
                    try txn.put(table, TierTask.tableKey(due: now, id: engine.nextTaskId()), task.encoded())
                    queued = true
                }
                guard queued else { return true }
                let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                record.commitLocation = location
                record.sequence = sequence
                try txn.putObject(engine.objects, bucket: bucket, key: key, record)
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }
}
