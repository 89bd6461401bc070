import AsyncHTTPClient
import DepotConfig
import DepotEngine
import Logging
import ServiceLifecycle
import Synchronization

/// Carries out tier tasks: takes due tasks from the index, runs them with bounded concurrency per
/// tier, and records each outcome in the object's commit log. Failures retry with exponential
/// backoff and jitter; a tier that keeps failing is paused (circuit breaker) and probed with a
/// single task until it answers again. Tasks live in LMDB, so retries survive restarts.
public final class TieringService: Service {
    let engine: Engine
    let tiers: [String: any TierClient]
    let logger: Logger
    let maxAttempts: UInt32
    let pollInterval: Duration
    let retention: Retention
    let lifecycleInterval: Int64
    private let breakers = Mutex<[String: Breaker]>([:])
    private let running = Mutex<[String: Int]>([:])
    private let inFlight = Mutex<Set<[UInt8]>>([])

    struct Breaker {
        var consecutiveFailures = 0
        var openUntil: Int64 = 0
    }

    public init(
        engine: Engine, configuration: DepotConfiguration, httpClient: HTTPClient, logger: Logger, maxAttempts: UInt32 = 12,
        pollInterval: Duration = .milliseconds(200)
    ) {
        self.engine = engine
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.pollInterval = pollInterval
        var clients: [String: any TierClient] = [:]
        for tier in configuration.tiers {
            switch tier.kind {
            case .filesystem: clients[tier.name] = FilesystemTier(settings: tier)
            case .s3: clients[tier.name] = S3Tier(settings: tier, client: httpClient)
            case .gcs, .azure: break
            }
        }
        tiers = clients
        retention = Retention(engine: engine, policies: configuration.effectivePolicies, tiers: clients, logger: logger)
        lifecycleInterval = Int64(configuration.storage.lifecycleInterval) * 1000
        let tierClients = clients
        engine.setReadThrough { bucket, key, record, range in
            // The first tier (in policy order) that confirmed its copy serves the bytes.
            guard let replica = record.replicas.first(where: { $0.state == .completed && tierClients[$0.tier] != nil }) else {
                return AsyncThrowingStream {
                    $0.finish(throwing: TierError("no tier holds a confirmed copy of \(bucket)/\(key)"))
                }
            }
            return tierClients[replica.tier]!.download(bucket: bucket, key: key, range: range)
        }
        let deleting = configuration.policies.filter { $0.propagateDeletes && !$0.replicateTo.isEmpty }
        engine.setDeletePlanner { bucket, key, record in
            deleting.filter {
                $0.matches(bucket: bucket, key: key, size: record.size, metadata: record.userMetadata, owner: record.owner)
            }.flatMap(\.replicateTo)
        }
        let policies = configuration.policies.filter { $0.mode == .continuous && !$0.replicateTo.isEmpty }
        engine.setReplicationPlanner { bucket, key, record in
            var targets: [String] = []
            for policy in policies
            where policy.matches(bucket: bucket, key: key, size: record.size, metadata: record.userMetadata, owner: record.owner)
            {
                for tier in policy.replicateTo where !targets.contains(tier) { targets.append(tier) }
            }
            return targets
        }
    }

    /// The client of a configured tier (for `depot tier check` through the admin API).
    public func client(named name: String) -> (any TierClient)? { tiers[name] }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            var nextLifecycle = Engine.now() + min(lifecycleInterval, 2000)
            while !Task.isShuttingDownGracefully {
                dispatchDueTasks(into: &group)
                if Engine.now() >= nextLifecycle {
                    let expired = await retention.run()
                    if expired > 0 { logger.info("retention expired \(expired) objects") }
                    nextLifecycle = Engine.now() + lifecycleInterval
                }
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
                } catch { break }
            }
            // Let running copies finish; unstarted tasks stay queued for the next start.
            await group.waitForAll()
        }
    }

    private func dispatchDueTasks(into group: inout TaskGroup<Void>) {
        let tasks: [TierTask]
        do {
            tasks = try engine.dueTasks(limit: 256)
        } catch {
            logger.error("reading the task queue failed: \(error)")
            return
        }
        let now = Engine.now()
        for task in tasks {
            guard let client = tiers[task.tier] else { continue }
            let open = breakers.withLock { ($0[task.tier]?.openUntil ?? 0) > now }
            if open { continue }
            let admitted: Bool = running.withLock { counts in
                guard counts[task.tier, default: 0] < client.settings.concurrency else { return false }
                return inFlight.withLock { $0.insert(task.handle).inserted }
            }
            guard admitted else { continue }
            running.withLock { $0[task.tier, default: 0] += 1 }
            group.addTask { [self] in
                await self.execute(task, on: client)
                running.withLock { $0[task.tier, default: 1] -= 1 }
                inFlight.withLock { _ = $0.remove(task.handle) }
            }
        }
    }

    private func execute(_ task: TierTask, on client: any TierClient) async {
        let outcome: TaskOutcome
        do {
            if task.kind == .delete {
                try await client.delete(bucket: task.bucket, key: task.key)
                breakers.withLock { $0[task.tier] = Breaker() }
                try await engine.finishTask(task, outcome: .completed)
                return
            }
            guard let reader = try engine.openObject(bucket: task.bucket, key: task.key),
                reader.record.created == task.objectCreated
            else {
                // Replaced or deleted since: the task is obsolete (a delete cancels its copies).
                try await engine.finishTask(task, outcome: .completed)
                return
            }
            try await client.upload(reader, bucket: task.bucket, key: task.key)
            breakers.withLock { $0[task.tier] = Breaker() }
            outcome = .completed
            logger.debug("replicated \(task.bucket)/\(task.key) to \(task.tier)")
        } catch {
            let attempts = task.attempts + 1
            let delay = Self.backoff(attempt: attempts)
            breakers.withLock { all in
                var breaker = all[task.tier] ?? Breaker()
                breaker.consecutiveFailures += 1
                if breaker.consecutiveFailures >= 5 { breaker.openUntil = Engine.now() + min(delay, 30_000) }
                all[task.tier] = breaker
            }
            logger.warning("replicating \(task.bucket)/\(task.key) to \(task.tier) failed (attempt \(attempts)): \(error)")
            outcome = .failed(
                error: "\(error)", retryAt: Engine.now() + delay,
                giveUp: attempts >= min(maxAttempts, UInt32(client.settings.maxAttempts)))
        }
        do {
            try await engine.finishTask(task, outcome: outcome)
        } catch {
            logger.error("recording the outcome of a tier task failed: \(error)")
        }
    }

    /// Exponential backoff with full jitter: up to 1 s, 2 s, 4 s, … capped at 5 minutes.
    static func backoff(attempt: UInt32) -> Int64 {
        let ceiling = min(Int64(300_000), Int64(1000) << Int64(min(attempt, 20)))
        return Int64.random(in: ceiling / 2...ceiling)
    }
}
