import DepotStorage
import Synchronization

/// The event outbox's settings and state, shared by the commit paths that write events and the
/// dispatcher that drains them.
final class OutboxBox: Sendable {
    struct Settings {
        /// The kinds some sink wants; with none, no event is recorded at all (an outbox nobody
        /// drains would only fill up).
        var kinds: Set<EventRecord.Kind> = []
        var maxEvents = 1_000_000
        /// At the bound: refuse new uploads (true), or let the dispatcher drop the oldest.
        var refuseWhenFull = true
    }
    let settings = Mutex(Settings())
    /// Entries in the outbox, approximately (a failed batch may leave it high until the next
    /// recount); exact enough for a bound of a million.
    let count = Atomic<Int>(-1)
}

extension Engine {
    /// Sets which events are recorded and the outbox bound; `onCommitted` runs (on the committer
    /// thread: keep it short) after every batch that wrote events.
    public func configureOutbox(
        kinds: Set<EventRecord.Kind>, maxEvents: Int, refuseWhenFull: Bool, onCommitted: (@Sendable () -> Void)?
    ) throws {
        outboxBox.settings.withLock {
            $0 = OutboxBox.Settings(kinds: kinds, maxEvents: maxEvents, refuseWhenFull: refuseWhenFull)
        }
        committer.eventsCommitted.withLock { $0 = onCommitted.map(FunctionBox.init) }
        if outboxBox.count.load(ordering: .relaxed) < 0 { _ = try countOutbox() }
    }

    /// Counts the outbox's entries (and corrects the running count).
    @discardableResult
    public func countOutbox() throws -> Int {
        let table = indexStore.table(.outbox)
        // The store's own count: LMDB keeps it, PostgreSQL counts without sending the rows.
        let n = try indexStore.read { txn in try txn.count(table) }
        outboxBox.count.store(n, ordering: .relaxed)
        return n
    }

    public var outboxCount: Int { max(0, outboxBox.count.load(ordering: .relaxed)) }

    /// Refuses a new upload when the outbox is at its bound and the admin chose to refuse.
    /// Called before any byte of the change is logged, so a refused write leaves nothing.
    func checkOutboxRoom() throws {
        let settings = outboxBox.settings.withLock { $0 }
        guard settings.refuseWhenFull, settings.kinds.contains(.created) else { return }
        if outboxBox.count.load(ordering: .relaxed) >= settings.maxEvents { throw EngineError.outboxFull }
    }

    /// Writes an event in the transaction of the change it reports. `sequence` is the change's
    /// log record's.
    func recordEvent(_ event: EventRecord, sequence: UInt64, txn: borrowing Transaction, context: CommitContext) throws {
        guard outboxBox.settings.withLock({ $0.kinds.contains(event.kind) }) else { return }
        var event = event
        event.sequence = sequence
        if event.time == 0 { event.time = Engine.now() }
        try txn.put(indexStore.table(.outbox), EventRecord.tableKey(sequence), event.encoded())
        context.eventsWritten += 1
        outboxBox.count.add(1, ordering: .relaxed)
        let box = outboxBox
        context.onRollback { box.count.subtract(1, ordering: .relaxed) }
    }

    /// The event of a new object version.
    func recordCreated(
        bucket: String, key: String, record: ObjectRecord, origin: ChangeOrigin, sequence: UInt64,
        txn: borrowing Transaction, context: CommitContext
    ) throws {
        let event = EventRecord(
            kind: .created, operation: origin.operation, bucket: bucket, key: key, size: record.size, etag: record.etag,
            userMetadata: record.userMetadata, principal: origin.principal.isEmpty ? record.owner : origin.principal,
            source: origin.source, request: origin.request, time: record.created)
        try recordEvent(event, sequence: sequence, txn: txn, context: context)
    }

    /// Events after `sequence`, oldest first.
    public func outboxEvents(after sequence: UInt64, limit: Int) throws -> [EventRecord] {
        let table = indexStore.table(.outbox)
        return try indexStore.read { txn in
            var events: [EventRecord] = []
            try txn.scan(table, from: EventRecord.tableKey(sequence &+ 1)) { key, value in
                let found = EventRecord.sequence(of: key)
                guard found > sequence else { return true }
                events.append(try EventRecord.decode(value, sequence: found))
                return events.count < limit
            }
            return events
        }
    }

    /// The oldest event still in the outbox.
    public func oldestOutboxEvent() throws -> EventRecord? { try outboxEvents(after: 0, limit: 1).first }

    /// Removes the events every sink has delivered (those up to `sequence`); returns how many.
    @discardableResult
    public func trimOutbox(through sequence: UInt64) async throws -> Int {
        let table = indexStore.table(.outbox)
        var removed = 0
        while true {
            let keys: [[UInt8]] = try indexStore.read { txn in
                var keys: [[UInt8]] = []
                try txn.scan(table) { key, _ in
                    guard EventRecord.sequence(of: key) <= sequence else { return false }
                    keys.append(Array(key))
                    return keys.count < 5000
                }
                return keys
            }
            guard !keys.isEmpty else { return removed }
            do {
                try await committer.submit { txn, _ in
                    for key in keys { _ = try txn.delete(table, key) }
                }
            } catch { throw EngineError.wrap(error) }
            removed += keys.count
            outboxBox.count.subtract(keys.count, ordering: .relaxed)
        }
    }

    /// A sink's delivery cursor: the sequence of the last event it delivered (or skipped).
    public func eventCursor(sink: String) throws -> UInt64 {
        let table = indexStore.table(.settings)
        return try indexStore.read { txn in
            try txn.get(table, Array(("cursor/" + sink).utf8)).map { try $0.decode { try $0.u64() } } ?? 0
        }
    }

    public func setEventCursor(sink: String, to sequence: UInt64) async throws {
        let table = indexStore.table(.settings)
        var w = BinaryWriter()
        w.u64(sequence)
        let value = w.bytes
        do {
            try await committer.submit { txn, _ in try txn.put(table, Array(("cursor/" + sink).utf8), value) }
        } catch { throw EngineError.wrap(error) }
    }
}
