import DepotStorage

/// Queue operations the circuit breaker needs: a tier that was down is probed with real work (its
/// oldest task, due or not), and once it answers, the copies that were waiting out their backoff
/// are retried at once rather than minutes later.
extension Engine {
    /// The oldest queued task for `tier`, whatever its due time.
    public func firstTask(tier: String, scanLimit: Int = 100_000) throws -> TierTask? {
        let table = indexStore.table(.tasks)
        return try indexStore.read { txn in
            var found: TierTask?
            var scanned = 0
            try txn.scan(table) { key, value in
                scanned += 1
                var task = try TierTask.decode(value)
                if task.tier == tier {
                    task.handle = Array(key)
                    found = task
                    return false
                }
                return scanned < scanLimit
            }
            return found
        }
    }

    /// Makes every task of `tier` due now; returns how many were moved forward.
    @discardableResult
    public func retryNow(tier: String) async throws -> Int {
        let table = indexStore.table(.tasks)
        let now = Engine.now()
        var moved = 0
        while true {
            // Batches keep each commit (and the time the committer is held) small.
            let batch: [([UInt8], [UInt8])]
            if let claims {
                // Cluster mode: only tasks no node holds are moved, claimed first, so a task another
                // node is running (a probe takes one due or not) is not queued a second time.
                do {
                    batch = try claims.claim(
                        table, through: nil, limit: 1000, scanLimit: 100_000,
                        accept: { key, value in
                            try key.withUnsafeBytes { TierTask.dueTime(of: $0) } > now
                                && value.withUnsafeBytes { try TierTask.decode($0) }.tier == tier
                        }
                    ).map { ($0.key, $0.value) }
                } catch { throw EngineError.wrap(error) }
            } else {
                batch = try indexStore.read { txn in
                    var out: [([UInt8], [UInt8])] = []
                    try txn.scan(table) { key, value in
                        if TierTask.dueTime(of: key) > now, try TierTask.decode(value).tier == tier {
                            out.append((Array(key), Array(value)))
                        }
                        return out.count < 1000
                    }
                    return out
                }
            }
            guard !batch.isEmpty else { return moved }
            let engine = self
            do {
                try await committer.submit { txn, _ in
                    for (key, value) in batch where try txn.delete(table, key) {
                        try txn.put(table, TierTask.tableKey(due: now, id: engine.nextTaskId()), value)
                    }
                }
            } catch { throw EngineError.wrap(error) }
            moved += batch.count
        }
    }
}

extension Engine {
    /// Cancels every queued task of `tier` (a tier that was removed), visibly: each copy it was
    /// to make is marked FAILED with `reason` (and a ReplicationFailed event), so the failed
    /// list shows it and nothing waits for a tier that will never answer; its deletes of remote
    /// copies are dropped. Returns how many tasks were cancelled.
    @discardableResult
    public func cancelTasks(tier: String, reason: String) async throws -> Int {
        let table = indexStore.table(.tasks)
        var cancelled = 0
        while true {
            // Batches keep each read short; every task's outcome is its own small commit.
            let batch: [TierTask] = try indexStore.read { txn in
                var out: [TierTask] = []
                try txn.scan(table) { key, value in
                    var task = try TierTask.decode(value)
                    if task.tier == tier {
                        task.handle = Array(key)
                        out.append(task)
                    }
                    return out.count < 256
                }
                return out
            }
            guard !batch.isEmpty else { return cancelled }
            for task in batch {
                try Task.checkCancellation()
                try await finishTask(task, outcome: .failed(error: reason, retryAt: 0, giveUp: true))
            }
            cancelled += batch.count
        }
    }

    /// The queued tasks of one object, with their due times (for the admin API's object status).
    public func tasks(bucket: String, key: String, scanLimit: Int = 1_000_000) throws -> [(task: TierTask, due: Int64)] {
        let table = indexStore.table(.tasks)
        return try indexStore.read { txn in
            var found: [(TierTask, Int64)] = []
            var scanned = 0
            try txn.scan(table) { tableKey, value in
                scanned += 1
                let task = try TierTask.decode(value)
                if task.bucket == bucket && task.key == key { found.append((task, TierTask.dueTime(of: tableKey))) }
                return scanned < scanLimit
            }
            return found
        }
    }
}
