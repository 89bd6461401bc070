import DepotStorage
import Dispatch
import Logging
import Synchronization

/// What an index change sees while it runs inside a commit batch: the log to append its record
/// to, and running per-segment live-byte deltas.
final class CommitContext {
    let store: DataPathStore
    var nextSequence: UInt64
    /// Keyed by segment, or by pack in cluster mode (`LiveUnit`: a pack's sequence alone is not unique).
    var liveDelta: [LiveUnit: Int64] = [:]
    /// Outbox entries written in this batch: the event dispatcher is woken once it commits.
    var eventsWritten = 0
    /// Undoes a change a request made outside the index (an in-memory counter), should the
    /// request or its batch not commit. Run newest first.
    private var undo: [() -> Void] = []

    /// Cluster mode: where blocks of numbers come from (`SharedSequenceSource`), and the end of
    /// the block in hand. The first block is taken at the first record, inside the batch's
    /// transaction after its snapshot.
    private let sharedSequence: (any SharedSequenceSource)?
    private var sequenceLimit = UInt64.max

    init(store: DataPathStore, nextSequence: UInt64) {
        self.store = store
        self.nextSequence = nextSequence
        self.sharedSequence = nil
    }

    init(store: DataPathStore, sharedSequence: any SharedSequenceSource) {
        self.store = store
        self.nextSequence = 0
        self.sequenceLimit = 0
        self.sharedSequence = sharedSequence
    }

    /// Registers how to undo a change made outside the index.
    func onRollback(_ action: @escaping () -> Void) { undo.append(action) }

    /// What the context holds before a request runs, to return to if the request fails.
    struct Mark {
        let liveDelta: [LiveUnit: Int64]
        let eventsWritten: Int
        let undoCount: Int
        let loggedCount: Int
    }

    func mark() -> Mark {
        Mark(liveDelta: liveDelta, eventsWritten: eventsWritten, undoCount: undo.count, loggedCount: logged.count)
    }

    /// Forgets what the requests since `mark` did (their index changes are aborted by the caller)
    /// and returns what the log records they appended change, for the caller to supersede.
    /// Sequence numbers they took stay taken: a number is skipped, never reused.
    @discardableResult
    func rollback(to mark: Mark) -> [LoggedTarget] {
        liveDelta = mark.liveDelta
        eventsWritten = mark.eventsWritten
        for action in undo[mark.undoCount...].reversed() { action() }
        undo.removeSubrange(mark.undoCount...)
        let targets = Array(logged[mark.loggedCount...])
        logged.removeSubrange(mark.loggedCount...)
        return targets
    }

    /// The whole batch did not commit.
    @discardableResult
    func rollbackAll() -> [LoggedTarget] {
        rollback(to: Mark(liveDelta: [:], eventsWritten: 0, undoCount: 0, loggedCount: 0))
    }

    /// Appends a log record. Callers validate first and log second: anything after `log` may only
    /// write the index, so a rejected request never leaves a record that a rebuild would replay.
    func log(_ payload: LogPayload) throws -> (location: RecordLocation, sequence: UInt64) {
        let sequence = try upcomingSequence()
        nextSequence += 1
        let bytes = payload.encoded()
        let location = try bytes.withUnsafeBytes {
            try store.append(kind: payload.kind, sequence: sequence, payload: $0)
        }
        logged.append(LoggedTarget(payload))
        // A pack holding a committed record gets its live-bytes row even when no chunk of it is
        // live (0): `depot fsck` tells such a pack from an orphan of a writer killed before its
        // commit by that row. (Segments: nothing to note, the path stays as it was.)
        if !store.isSegments { liveDelta[store.liveUnit(location), default: 0] += 0 }
        return (location, sequence)
    }

    /// The number the next `log` gives its record (taking a block of the shared sequence first
    /// when the one in hand is used up).
    func upcomingSequence() throws -> UInt64 {
        if nextSequence >= sequenceLimit, let sharedSequence {
            let block = try sharedSequence.reserveSequenceBlock()
            (nextSequence, sequenceLimit) = (block.lowerBound, block.upperBound)
        }
        return nextSequence
    }

    /// What each record appended in this batch changes, in order.
    private(set) var logged: [LoggedTarget] = []
}

/// The single writer of the index, with group commit.
///
/// Requests queue up while a batch is being made durable; the next batch takes all of them at
/// once: their log records are appended, every segment file written since the last batch gets one
/// fdatasync, and one LMDB write transaction (itself synced) records all their changes. Only then
/// does each request's caller resume, so an acknowledged write survives `kill -9` and power loss,
/// and one pair of syncs serves many concurrent uploads. It runs on its own thread because both
/// syncs and the LMDB write lock block, which must never happen on the two cooperative threads.
///
/// Each request runs in a nested transaction of the batch's: one that fails (a full disk, a
/// value LMDB refuses) leaves none of its writes (object, event, tier tasks, counts) while the
/// other requests of the batch commit.
final class Committer: Sendable {
    typealias Operation = (borrowing Transaction, CommitContext) throws -> Void

    private final class Pending: @unchecked Sendable {
        let run: Operation
        let finish: (Error?) -> Void
        var error: Error?
        init(run: @escaping Operation, finish: @escaping (Error?) -> Void) {
            self.run = run
            self.finish = finish
        }
    }

    private final class ResultBox<R>: @unchecked Sendable { var value: R? }

    private let indexStore: any IndexStore
    private let store: DataPathStore
    let meta: Table
    private let segments: Table
    let objects: Table
    let versions: Table
    let buckets: Table
    /// The tables of `Tables.logged`, by name (compensation re-logs their items).
    let keyedItemTables: [String: Table]
    let logger: Logger
    /// Set while batches fail because the shared index cannot be reached: each would fail the
    /// same way until it is back, so only the first is logged (the index logs the outage's end).
    private let indexOutageLogged = Atomic<Bool>(false)
    private let queue: Mutex<(pending: [Pending], stopping: Bool, sequence: UInt64)>
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let thread = DispatchQueue(label: "depot.committer")
    /// Objects and buckets whose log records were appended by a batch that did not commit, and
    /// not yet superseded (only the committer thread uses it). Kept in memory: a restart before
    /// the next successful batch leaves those records for a rebuild to replay.
    private let unsuperseded = Mutex<[LoggedTarget]>([])
    /// Called after a batch that wrote outbox entries is durable (wakes the event dispatcher).
    let eventsCommitted = Mutex<FunctionBox<@Sendable () -> Void>?>(nil)

    init(indexStore: any IndexStore, store: DataPathStore, nextSequence: UInt64, logger: Logger) {
        self.indexStore = indexStore
        self.store = store
        self.meta = indexStore.table(.meta)
        self.segments = indexStore.table(.segments)
        self.objects = indexStore.table(.objects)
        self.versions = indexStore.table(.versions)
        self.buckets = indexStore.table(.buckets)
        self.keyedItemTables = Dictionary(uniqueKeysWithValues: Tables.logged.map { ($0, indexStore.table($0)) })
        self.logger = logger
        self.queue = Mutex(([], false, nextSequence))
        thread.async { [self] in loop() }
    }

    /// Requests waiting for the next batch.
    var queuedCount: Int { queue.withLock { $0.pending.count } }

    /// Runs `operation` in the next batch and returns once its changes are durable.
    func submit<R: Sendable>(_ operation: @escaping @Sendable (borrowing Transaction, CommitContext) throws -> R)
        async throws -> R
    {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<R, Error>) in
            let box = ResultBox<R>()
            let pending = Pending(
                run: { txn, context in box.value = try operation(txn, context) },
                finish: { error in
                    if let error { continuation.resume(throwing: error) } else { continuation.resume(returning: box.value!) }
                })
            let accepted = queue.withLock { q -> Bool in
                if q.stopping { return false }
                q.pending.append(pending)
                return true
            }
            if accepted { wake.signal() } else { continuation.resume(throwing: EngineError.shuttingDown) }
        }
    }

    /// The same as `submit`, for callers that are not async (command-line maintenance).
    func submitAndWait<R: Sendable>(_ operation: @escaping @Sendable (borrowing Transaction, CommitContext) throws -> R)
        throws -> R
    {
        let done = DispatchSemaphore(value: 0)
        let box = ResultBox<Result<R, Error>>()
        let pending = Pending(
            run: { txn, context in box.value = .success(try operation(txn, context)) },
            finish: { error in
                if let error { box.value = .failure(error) }
                done.signal()
            })
        let accepted = queue.withLock { q -> Bool in
            if q.stopping { return false }
            q.pending.append(pending)
            return true
        }
        guard accepted else { throw EngineError.shuttingDown }
        wake.signal()
        done.wait()
        return try box.value!.get()
    }

    /// Finishes the queued requests, then stops the thread.
    func shutdown() {
        let already = queue.withLock { q -> Bool in
            defer { q.stopping = true }
            return q.stopping
        }
        if already { return }
        wake.signal()
        stopped.wait()
    }

    private func loop() {
        while true {
            wake.wait()
            let (batch, stopping) = queue.withLock { q in
                defer { q.pending.removeAll(keepingCapacity: true) }
                return (q.pending, q.stopping)
            }
            if !batch.isEmpty { run(batch) }
            if stopping {
                let rest = queue.withLock { q in
                    defer { q.pending.removeAll() }
                    return q.pending
                }
                if !rest.isEmpty { run(rest) }
                stopped.signal()
                return
            }
        }
    }

    private func run(_ batch: [Pending]) {
        let startSequence = queue.withLock { $0.sequence }
        var context = CommitContext(store: store, nextSequence: startSequence)
        let owed = unsuperseded.withLock { $0 }
        var stillOwed: [LoggedTarget] = []
        do {
            try indexStore.write { txn in
                // A retry after the map grew starts from scratch; what the first attempt appended
                // is superseded like a failed batch's records.
                stillOwed = owed + context.rollbackAll()
                // Cluster mode: other nodes' committers take sequence numbers too (they key the
                // event outbox), from the index's shared sequence, so no row every batch writes
                // makes the nodes' batches conflict (SharedSequenceSource; a re-run takes new
                // numbers). Embedded mode: the next free number is this process's.
                let sharedSequence = txn.sharedSequence
                if let sharedSequence {
                    context = CommitContext(store: store, sharedSequence: sharedSequence)
                } else {
                    context = CommitContext(store: store, nextSequence: startSequence)
                }
                // Records of earlier batches that did not commit: superseded first, in this batch.
                stillOwed = compensate(stillOwed, txn: txn, context: context)
                for pending in batch {
                    pending.error = nil
                    let mark = context.mark()
                    do {
                        try txn.nested { request in try pending.run(request, context) }
                    } catch let error as any IndexTransactionFailure where error.endsWholeTransaction {
                        // LMDB's map is full (the batch is retried once it grew), or the index is
                        // unreachable: not this request's fault, the whole batch stops.
                        throw error
                    } catch {
                        // All or nothing: its nested transaction is aborted, the others go on.
                        stillOwed += compensate(context.rollback(to: mark), txn: txn, context: context)
                        pending.error = error
                    }
                }
                for (unit, delta) in context.liveDelta where delta != 0 || unit.isPack {
                    let key = unit.indexKey
                    let current = try txn.get(segments, key).map { try $0.decode { try $0.u64() } } ?? 0
                    var w = BinaryWriter()
                    w.u64(UInt64(max(0, Int64(current) + delta)))
                    try txn.put(segments, key, w.bytes)
                }
                if sharedSequence == nil, context.nextSequence != startSequence {
                    var w = BinaryWriter()
                    w.u64(context.nextSequence)
                    try txn.put(meta, Tables.sequenceKey, w.bytes)
                }
                // Segment bytes become durable before the index commit that points at them.
                try store.syncDirty()
            }
            queue.withLock { $0.sequence = max($0.sequence, context.nextSequence) }
            unsuperseded.withLock { $0 = LoggedTarget.unique(stillOwed) }
            for pending in batch { pending.finish(pending.error) }
            indexOutageLogged.store(false, ordering: .relaxed)
            if context.eventsWritten > 0, let wake = eventsCommitted.withLock({ $0 })?.function { wake() }
        } catch {
            // Sequence numbers handed out in a failed batch are skipped, never reused. The records
            // it appended stay in the segments: the next batch that commits supersedes them.
            let appended = context.rollbackAll()
            unsuperseded.withLock { $0 = LoggedTarget.unique(owed + appended) }
            queue.withLock { $0.sequence = max($0.sequence, context.nextSequence) }
            if EngineError.indexFailure(error) == nil {
                logger.error("commit batch of \(batch.count) failed: \(error)")
            } else if !indexOutageLogged.exchange(true, ordering: .relaxed) {
                logger.error(
                    "commit batch of \(batch.count) failed: \(error); writes get 503 until the index answers (logged once)")
            }
            for pending in batch { pending.finish(pending.error ?? error) }
        }
    }
}
