import DepotStorage

/// Tier tasks and event outbox rows taken through the claim seam (`IndexClaims`) when several
/// nodes share the index (cluster mode): each node claims what it runs, for a lease it renews
/// while the work goes on, so a task or an event is run by one node, and by another only after
/// the first one's lease has ended (it died or lost the database).
///
/// In embedded mode (one process owns the index) there is nobody to split work with: every call
/// here is the plain queue read it always was, and renewing or releasing does nothing.
extension Engine {
    /// The index's claims; nil when this process alone writes the index.
    var claims: (any IndexClaims)? { indexStore.claims }

    /// Whether queued work is claimed (cluster mode): then the event dispatcher claims outbox
    /// rows and deletes each once delivered, instead of keeping per-sink cursors.
    public var claimsWork: Bool { claims != nil }

    /// The claims' lease, for the renewal cadence; nil in embedded mode.
    public var claimLeaseSeconds: Double? { claims?.leaseSeconds }

    /// Due tasks (as `dueTasks`), claimed for this node in cluster mode: tasks another node holds
    /// are left out, and those returned are this node's until it finishes them or its lease ends.
    public func claimDueTasks(
        now: Int64 = Engine.now(), limit: Int = 64, skipping: Set<String> = [], scanLimit: Int = 8192
    ) throws -> [TierTask] {
        guard let claims else { return try dueTasks(now: now, limit: limit, skipping: skipping, scanLimit: scanLimit) }
        // Every key due at `now`: its due time, then any id.
        let through = TierTask.tableKey(due: now, id: .max)
        let accept: ((_ key: [UInt8], _ value: [UInt8]) throws -> Bool)? =
            skipping.isEmpty
            ? nil
            : { _, value in try !skipping.contains(value.withUnsafeBytes { try TierTask.decode($0) }.tier) }
        do {
            return try claims.claim(
                indexStore.table(.tasks), through: through, limit: limit, scanLimit: scanLimit, accept: accept
            )
            .map(Self.task)
        } catch { throw EngineError.wrap(error) }
    }

    /// The oldest task of `tier`, due or not (the circuit breaker's probe), claimed in cluster mode.
    public func claimFirstTask(tier: String, scanLimit: Int = 100_000) throws -> TierTask? {
        guard let claims else { return try firstTask(tier: tier, scanLimit: scanLimit) }
        do {
            return try claims.claim(
                indexStore.table(.tasks), through: nil, limit: 1, scanLimit: scanLimit,
                accept: { _, value in try value.withUnsafeBytes { try TierTask.decode($0) }.tier == tier }
            ).first.map(Self.task)
        } catch { throw EngineError.wrap(error) }
    }

    /// Extends this node's claims on running tasks (by handle); returns the handles still held.
    public func renewTaskClaims(_ handles: [[UInt8]]) throws -> Set<[UInt8]> {
        guard let claims else { return Set(handles) }
        do { return try claims.renew(indexStore.table(.tasks), keys: handles) } catch { throw EngineError.wrap(error) }
    }

    /// Gives claimed tasks back unrun (this node cannot take them now).
    public func releaseTaskClaims(_ handles: [[UInt8]]) throws {
        guard let claims else { return }
        do { try claims.release(indexStore.table(.tasks), keys: handles) } catch { throw EngineError.wrap(error) }
    }

    /// Claims the oldest `limit` events no other node holds (cluster mode only; embedded mode
    /// reads the outbox after each sink's cursor, `outboxEvents`).
    public func claimOutboxEvents(limit: Int) throws -> [EventRecord] {
        guard let claims else { return [] }
        do {
            return try claims.claim(indexStore.table(.outbox), through: nil, limit: limit, scanLimit: limit, accept: nil)
                .map { entry in
                    let sequence = entry.key.withUnsafeBytes { EventRecord.sequence(of: $0) }
                    return try entry.value.withUnsafeBytes { try EventRecord.decode($0, sequence: sequence) }
                }
        } catch { throw EngineError.wrap(error) }
    }

    /// Extends this node's claims on events being delivered; returns the sequences still held.
    public func renewOutboxClaims(_ sequences: [UInt64]) throws -> Set<UInt64> {
        guard let claims else { return Set(sequences) }
        do {
            let held = try claims.renew(indexStore.table(.outbox), keys: sequences.map(EventRecord.tableKey))
            return Set(held.map { $0.withUnsafeBytes { EventRecord.sequence(of: $0) } })
        } catch { throw EngineError.wrap(error) }
    }

    /// Gives claimed events back undelivered (shutdown, a reload).
    public func releaseOutboxClaims(_ sequences: [UInt64]) throws {
        guard let claims else { return }
        do { try claims.release(indexStore.table(.outbox), keys: sequences.map(EventRecord.tableKey)) } catch {
            throw EngineError.wrap(error)
        }
    }

    /// Removes delivered events from the outbox (cluster mode); returns how many were there.
    @discardableResult
    public func removeDeliveredEvents(_ sequences: [UInt64]) throws -> Int {
        guard let claims else { return 0 }
        do {
            let removed = try claims.remove(indexStore.table(.outbox), keys: sequences.map(EventRecord.tableKey))
            outboxBox.count.subtract(removed, ordering: .relaxed)
            return removed
        } catch { throw EngineError.wrap(error) }
    }

    private static func task(_ entry: ClaimedEntry) throws -> TierTask {
        var task = try entry.value.withUnsafeBytes { try TierTask.decode($0) }
        task.handle = entry.key
        return task
    }
}
