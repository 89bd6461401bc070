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
///
/// Tiers and policies can change while it runs (`apply`, on a configuration reload): copies
/// under way finish with the client they started with, new tasks use the new settings.
public final class TieringService: Service {
    let engine: Engine
    let httpClient: HTTPClient
    let logger: Logger
    let maxAttempts: UInt32
    let pollInterval: Duration
    private let generation: Mutex<Generation>
    private let breakers = Mutex<[String: Breaker]>([:])
    private let running = Mutex<[String: Int]>([:])
    private let inFlight = Mutex<Set<[UInt8]>>([])

    /// What one configuration makes of the tiers and policies.
    struct Generation {
        var tiers: [String: any TierClient] = [:]
        var limiters: [String: BandwidthLimiter] = [:]
        var policies: [PolicySettings] = []
        var retention: Retention
        var lifecycleInterval: Int64
    }

    struct Breaker {
        var consecutiveFailures = 0
        var openUntil: Int64 = 0
    }

    public init(
        engine: Engine, configuration: DepotConfiguration, httpClient: HTTPClient, logger: Logger, maxAttempts: UInt32 = 12,
        pollInterval: Duration = .milliseconds(200)
    ) {
        self.engine = engine
        self.httpClient = httpClient
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.pollInterval = pollInterval
        generation = Mutex(
            Generation(retention: Retention(engine: engine, policies: [], tiers: [:], logger: logger), lifecycleInterval: 60_000))
        apply(configuration)
        let service = self
        engine.setReadThrough { bucket, key, record, range in
            // The first tier (in policy order) that confirmed its copy serves the bytes.
            let tiers = service.generation.withLock { $0.tiers }
            guard let replica = record.replicas.first(where: { $0.state == .completed && tiers[$0.tier] != nil }) else {
                return AsyncThrowingStream {
                    $0.finish(throwing: TierError("no tier holds a confirmed copy of \(bucket)/\(key)"))
                }
            }
            return tiers[replica.tier]!.download(bucket: bucket, key: key, range: range)
        }
    }

    /// Installs the tiers and policies of `configuration`. A tier whose settings did not change
    /// keeps its client (and its connections and bandwidth schedule).
    public func apply(_ configuration: DepotConfiguration) {
        let previous = generation.withLock { $0 }
        var clients: [String: any TierClient] = [:]
        var limiters: [String: BandwidthLimiter] = [:]
        for tier in configuration.tiers {
            if let existing = previous.tiers[tier.name], existing.settings == tier {
                clients[tier.name] = existing
            } else {
                switch tier.kind {
                case .filesystem: clients[tier.name] = FilesystemTier(settings: tier)
                case .s3: clients[tier.name] = S3Tier(settings: tier, client: httpClient)
                case .gcs, .azure: break
                }
            }
            if let rate = tier.bandwidth {
                let old = previous.limiters[tier.name]
                limiters[tier.name] = old?.bytesPerSecond == rate ? old! : BandwidthLimiter(bytesPerSecond: rate)
            }
        }
        let effective = configuration.effectivePolicies
        generation.withLock {
            $0 = Generation(
                tiers: clients, limiters: limiters, policies: configuration.policies,
                retention: Retention(engine: engine, policies: effective, tiers: clients, logger: logger),
                lifecycleInterval: Int64(configuration.storage.lifecycleInterval) * 1000)
        }
        let deleting = configuration.policies.filter { $0.propagateDeletes && !$0.replicateTo.isEmpty }
        engine.setDeletePlanner { bucket, key, record in
            deleting.filter { $0.matches(bucket: bucket, key: key, record: record) }.flatMap(\.replicateTo)
        }
        let continuous = configuration.policies.filter { $0.mode == .continuous && !$0.replicateTo.isEmpty }
        engine.setReplicationPlanner { bucket, key, record in
            var targets: [String] = []
            for policy in continuous where policy.matches(bucket: bucket, key: key, record: record) {
                for tier in policy.replicateTo where !targets.contains(tier) { targets.append(tier) }
            }
            return targets
        }
    }

    /// The client of a configured tier (for `depot tier check` through the admin API).
    public func client(named name: String) -> (any TierClient)? { generation.withLock { $0.tiers[name] } }

    /// The tiers an on-demand request (Vault forward/media) sends an object to: those of every
    /// policy with tiers that matches it, whatever its mode.
    public func onDemandTiers(bucket: String, key: String, record: ObjectRecord) -> [String] {
        let policies = generation.withLock { $0.policies }
        var targets: [String] = []
        for policy in policies where !policy.replicateTo.isEmpty && policy.matches(bucket: bucket, key: key, record: record) {
            for tier in policy.replicateTo where !targets.contains(tier) { targets.append(tier) }
        }
        return targets
    }

    public func run() async throws {
        await withTaskGroup(of: Void.self) { group in
            // Retention scans whole buckets; on its own task it never delays dispatch.
            group.addTask { await self.runLifecycle() }
            while !Task.isShuttingDownGracefully {
                dispatchDueTasks(into: &group)
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: self.pollInterval) }
                } catch { break }
            }
            // Let running copies finish; unstarted tasks stay queued for the next start.
            await group.waitForAll()
        }
    }

    private func runLifecycle() async {
        var first = true
        while !Task.isShuttingDownGracefully {
            let (retention, interval) = generation.withLock { ($0.retention, $0.lifecycleInterval) }
            do {
                let wait = first ? min(interval, 2000) : interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
            } catch { return }
            first = false
            if Task.isShuttingDownGracefully { return }
            let expired = await retention.run()
            if expired > 0 { logger.info("retention expired \(expired) objects") }
        }
    }

    private func dispatchDueTasks(into group: inout TaskGroup<Void>) {
        let now = Engine.now()
        let (tiers, limiters) = generation.withLock { ($0.tiers, $0.limiters) }
        // Tiers that cannot take a task now: their tasks are not even read.
        var unavailable = Set<String>()
        let counts = running.withLock { $0 }
        let open = breakers.withLock { $0.filter { $0.value.openUntil > now }.keys }
        for (name, client) in tiers {
            if counts[name, default: 0] >= client.settings.concurrency || open.contains(name)
                || !(client.settings.window?.isOpen(at: now) ?? true)
            {
                unavailable.insert(name)
            }
        }
        let tasks: [TierTask]
        do {
            tasks = try engine.dueTasks(now: now, limit: 256, skipping: unavailable)
        } catch {
            logger.error("reading the task queue failed: \(error)")
            return
        }
        for task in tasks {
            guard let client = tiers[task.tier] else { continue }
            let admitted: Bool = running.withLock { counts in
                guard counts[task.tier, default: 0] < client.settings.concurrency else { return false }
                guard inFlight.withLock({ $0.insert(task.handle).inserted }) else { return false }
                counts[task.tier, default: 0] += 1
                return true
            }
            guard admitted else { continue }
            let limiter = limiters[task.tier]
            group.addTask { [self] in
                await BandwidthLimiter.$current.withValue(limiter) {
                    await self.execute(task, on: client)
                }
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
