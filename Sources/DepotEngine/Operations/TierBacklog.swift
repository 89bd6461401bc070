/// What waits for one tier: for `depot status`, the admin API and the metrics.
public struct TierBacklog: Sendable, Equatable {
    /// Tasks queued (copies and deletes), due now or waiting for a retry.
    public var count = 0
    /// When the oldest of them was first queued (ms since the epoch): a failing tier's oldest
    /// pending work keeps its age across retries.
    public var oldestQueued: Int64 = .max
    /// The earliest due time among them (ms since the epoch).
    public var nextDue: Int64 = .max

    public init() {}

    /// Seconds the oldest pending task has waited, at `now` (ms); 0 with nothing pending.
    public func oldestPendingSeconds(now: Int64) -> Double {
        count == 0 ? 0 : Double(max(0, now - oldestQueued)) / 1000
    }
}

extension Engine {
    /// The queued tasks of every tier, with the age of the oldest (one walk of the task table).
    public func tierBacklogs() throws -> [String: TierBacklog] {
        let table = indexStore.table(.tasks)
        return try indexStore.read { txn in
            var backlogs: [String: TierBacklog] = [:]
            try txn.scan(table) { key, value in
                let task = try TierTask.decode(value)
                var entry = backlogs[task.tier] ?? TierBacklog()
                entry.count += 1
                entry.oldestQueued = min(entry.oldestQueued, task.queued)
                entry.nextDue = min(entry.nextDue, TierTask.dueTime(of: key))
                backlogs[task.tier] = entry
                return true
            }
            return backlogs
        }
    }
}
