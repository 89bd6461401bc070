import AsyncHTTPClient
import DepotConfig
import DepotEngine
import Logging
import ServiceLifecycle
import Synchronization

/// Carries out tier tasks: takes due tasks from the index, runs them with bounded concurrency per
/// tier, and records each outcome in the object's commit log. Failures retry with exponential
/// backoff and jitter; a tier that keeps failing is paused (circuit breaker) and probed with a
/// single task until it answers again. Tasks live in the index, so retries survive restarts. In
/// cluster mode each node claims the tasks it runs (`Engine.claimDueTasks`, a lease renewed while
/// the copy runs), so a task is run by one node, and by another only once that lease has ended.
///
/// Tiers and policies can change while it runs (`apply`, on a configuration reload): copies
/// under way finish with the client they started with, new tasks use the new settings.
public final class TieringService: Service {
    let engine: Engine
    let httpClient: HTTPClient
    let logger: Logger
    let maxAttempts: UInt32
    let pollInterval: Duration
    /// Whether this node runs the lifecycle pass (cluster mode: one node at a time).
    let leadership: any MaintenanceLeadership
    private let generation: Mutex<Generation>
    private let breakers = Mutex<[String: Breaker]>([:])
    /// Each tier's last error and failing state (TierHealth.swift).
    let health: TierHealthBook
    private let running = Mutex<[String: Int]>([:])
    private let inFlight = Mutex(TasksInFlight())
    /// When the claims of `inFlight` were last renewed (cluster mode).
    private let claimsRenewedAt = Mutex(ContinuousClock.now)
    private let meter = ThroughputMeter()
    /// Failed task attempts per tier since start (each retry counts): the metrics' failure rate.
    private let failedAttempts = Mutex<[String: UInt64]>([:])
    /// Signalled when a copy finishes, so its slot is refilled at once rather than at the next
    /// poll (with 4 slots and 8 MiB copies, waiting for the poll left the tier idle a third of
    /// the time).
    private let wakeups: AsyncStream<Void>
    private let wake: AsyncStream<Void>.Continuation

    /// What one configuration makes of the tiers and policies.
    struct Generation {
        var tiers: [String: any TierClient] = [:]
        var limiters: [String: BandwidthLimiter] = [:]
        var policies: [PolicySettings] = []
        /// Declared storage classes: a version put in one is copied to its tier and evicted.
        var storageClasses = StorageClasses(tiers: [])
        /// Whether the next lifecycle pass also runs the StorageClassSweep (after start, and after
        /// a change of the declared classes).
        var classSweepDue = false
        var retention: Retention
        var lifecycleInterval: Int64
    }

    /// A tier's circuit breaker. After `threshold` failures in a row the tier is down: no task
    /// is sent until `openUntil`, then one probe (its oldest task) at a time, at growing
    /// intervals, until one succeeds.
    struct Breaker {
        static let threshold = 5
        var consecutiveFailures = 0
        var openUntil: Int64 = 0
        var probing = false
        var probesFailed = 0
        var isDown: Bool { consecutiveFailures >= Self.threshold }

        /// 2 s, 4 s, 8 s … at most 30 s between probes of a tier that is down.
        var probeInterval: Int64 { min(30_000, 2000 << Int64(min(probesFailed, 4))) }
    }

    public init(
        engine: Engine, configuration: DepotConfiguration, httpClient: HTTPClient, logger: Logger, maxAttempts: UInt32 = 12,
        pollInterval: Duration = .milliseconds(200), leadership: any MaintenanceLeadership = SoleNodeLeadership()
    ) {
        self.engine = engine
        self.httpClient = httpClient
        self.logger = logger
        self.maxAttempts = maxAttempts
        self.pollInterval = pollInterval
        self.leadership = leadership
        health = TierHealthBook(logger: logger)
        (wakeups, wake) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        generation = Mutex(
            Generation(retention: Retention(engine: engine, policies: [], tiers: [:], logger: logger), lifecycleInterval: 60_000))
        apply(configuration)
        let service = self
        engine.setReadThrough { bucket, key, record, range in
            // The first tier (in policy order) that confirmed its copy and is not down serves the
            // bytes; if every such tier is down, the first one is still tried. None: refuse now.
            // A version with an id of its own is read from its own copy wherever a tier keeps one,
            // even when it is the current version: the plain key holds whichever version was
            // current when it was last copied, which after a newer version was deleted by id is
            // not this one. An older version can only be read from such a copy.
            let tiers = service.generation.withLock { $0.tiers }
            let versionTiers = service.versionCopyTiers(bucket: bucket, key: key, record: record)
            let completed = record.replicas.filter { $0.state == .completed && tiers[$0.tier] != nil }.map(\.tier)
            let ownCopies = completed.filter { versionTiers.contains($0) }
            let isCurrent = (try? engine.headObject(bucket: bucket, key: key))?.created == record.created
            let holders = ownCopies.isEmpty && isCurrent ? completed : ownCopies
            let up = holders.first { tier in !service.breakers.withLock { $0[tier]?.isDown ?? false } }
            guard let tier = up ?? holders.first, let client = tiers[tier] else {
                throw TierError("no configured tier holds a confirmed copy of \(bucket)/\(key)")
            }
            var remoteKey = key
            if versionTiers.contains(tier), let versionId = VersionCopyKey.versionId(of: record) {
                remoteKey = VersionCopyKey.key(key, versionId: versionId)
            }
            let fetch: @Sendable (Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> = { [remoteKey] in
                client.download(bucket: bucket, key: remoteKey, range: $0)
            }
            // An encrypted object's copy may be sealed (`encryptedObjects: ciphertext`): opened here.
            guard record.encryption != nil else { return fetch(range) }
            return SealedCopyReadThrough.stream(
                record, range: range, domain: { try engine.sealedCopyDomain(of: record) }, fetch: fetch)
        }
        engine.setVersionCopyCheck { bucket, key, record in
            let tiers = service.versionCopyTiers(bucket: bucket, key: key, record: record)
            return record.replicas.contains { $0.state == .completed && tiers.contains($0.tier) }
        }
    }

    /// Whether `tier` gets encrypted objects like this one as sealed copies: a policy sending it
    /// there says `replicate.encryptedObjects: ciphertext` (one such policy is enough: an object
    /// asked to go as ciphertext never goes as plaintext).
    func sendsCiphertext(tier: String, bucket: String, key: String, record: ObjectRecord?) -> Bool {
        guard let record, record.encryption != nil else { return false }
        let policies = generation.withLock { $0.policies }
        return policies.contains {
            $0.encryptedObjects == .ciphertext && $0.replicateTo.contains(tier)
                && $0.matches(bucket: bucket, key: key, record: record)
        }
    }

    /// Sends a copy: the plaintext, or for an encrypted object whose policy asks for it, its
    /// sealed copy (ciphertext and the wrapped data key, DepotEngine SealedCopy.swift).
    private func send(_ reader: ObjectReader, to client: any TierClient, bucket: String, key: String, sealed: Bool)
        async throws
    {
        guard sealed, let encryption = reader.record.encryption else {
            return try await client.upload(reader, bucket: bucket, key: key)
        }
        guard reader.isLocal else {
            throw TierError(
                "\(bucket)/\(key) was moved off this server: its ciphertext is no longer here to send", permanent: true)
        }
        let wrapped = CustomerKeyEncryption.isCustomerKey(encryption) ? nil : try engine.wrappedDataKey(keyId: encryption.keyId)
        try await client.uploadSealed(
            reader, trailer: SealedCopy.trailer(reader.record, wrappedDataKey: wrapped), bucket: bucket, key: key)
    }

    /// The configured tiers that keep every version of this object under its own key (policies
    /// with `replicate.versions: all` that match it); empty for a version without an id of its own.
    func versionCopyTiers(bucket: String, key: String, record: ObjectRecord) -> Set<String> {
        guard VersionCopyKey.versionId(of: record) != nil else { return [] }
        let (policies, tiers, classes) = generation.withLock { ($0.policies, $0.tiers, $0.storageClasses) }
        var targets: Set<String> = []
        for policy in policies
        where policy.replicateVersions == .all && policy.matches(bucket: bucket, key: key, record: record) {
            for tier in policy.replicateTo where tiers[tier] != nil { targets.insert(tier) }
        }
        if let tier = classes.targetTier(of: record), tiers[tier] != nil { targets.insert(tier) }
        return targets
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
                case .gcs:
                    do {
                        clients[tier.name] = try GCSTier(settings: tier, client: httpClient)
                    } catch {
                        logger.error("tier \(tier.name): \(error)")
                    }
                case .azure: clients[tier.name] = AzureTier(settings: tier, client: httpClient)
                case .vault:
                    clients[tier.name] = VaultTier(settings: tier, client: httpClient, engine: engine, logger: logger)
                }
            }
            if let rate = tier.bandwidth {
                let old = previous.limiters[tier.name]
                limiters[tier.name] = old?.bytesPerSecond == rate ? old! : BandwidthLimiter(bytesPerSecond: rate)
            }
        }
        cancelTasksOfRemovedTiers(configured: Set(configuration.tiers.map(\.name)))
        health.keep(only: Set(configuration.tiers.map(\.name)))
        let effective = configuration.effectivePolicies
        generation.withLock {
            $0 = Generation(
                tiers: clients, limiters: limiters, policies: configuration.policies,
                storageClasses: StorageClasses(tiers: configuration.tiers),
                classSweepDue: previous.classSweepDue || StorageClasses(tiers: configuration.tiers) != previous.storageClasses,
                retention: Retention(engine: engine, policies: effective, tiers: clients, logger: logger),
                lifecycleInterval: Int64(configuration.storage.lifecycleInterval) * 1000)
        }
        let deleting = configuration.policies.filter { $0.propagateDeletes && !$0.replicateTo.isEmpty }
        let storageClasses = StorageClasses(tiers: configuration.tiers)
        engine.setDeletePlanner { bucket, key, record, byVersion in
            var tiers = deleting.filter {
                (!byVersion || $0.propagatesVersionDeletes) && $0.matches(bucket: bucket, key: key, record: record)
            }.flatMap(\.replicateTo)
            // An object put in a storage class lives on its tier: deleting it deletes it there.
            if let tier = storageClasses.targetTier(of: record), !tiers.contains(tier) { tiers.append(tier) }
            return tiers
        }
        let continuous = configuration.policies.filter { $0.mode == .continuous && !$0.replicateTo.isEmpty }
        // Continuous or on-demand: an on-demand request (`requestReplication`) keeps every
        // version too where its policy says so. (A tier that one matching policy fills with every
        // version and another with the current one only gets every version.)
        let everyVersion = configuration.policies.filter { $0.replicateVersions == .all && !$0.replicateTo.isEmpty }
        engine.setVersionReplicationPlanner { bucket, key, record in
            var tiers = everyVersion.filter { $0.matches(bucket: bucket, key: key, record: record) }.flatMap(\.replicateTo)
            // A version put in a storage class keeps its own copy there too: once evicted and
            // replaced by a newer version, that copy holds its bytes (the plain key holds the newer).
            if let tier = storageClasses.targetTier(of: record), !tiers.contains(tier) { tiers.append(tier) }
            return tiers
        }
        installLockPlanner(configuration.policies)
        engine.setReplicationPlanner { bucket, key, record in
            var targets: [String] = []
            for policy in continuous where policy.matches(bucket: bucket, key: key, record: record) {
                for tier in policy.replicateTo where !targets.contains(tier) { targets.append(tier) }
            }
            // Put in a declared storage class: its tier gets the object at once (then it is evicted).
            if let tier = storageClasses.targetTier(of: record), !targets.contains(tier) { targets.append(tier) }
            return targets
        }
    }

    /// Tasks queued for a tier that is no longer configured (deleted through the admin API,
    /// removed from the file by a reload or while Depot was stopped) would wait for ever, and
    /// their objects would never expire: they are cancelled, each copy marked FAILED with
    /// "tier X was removed". In the background, as there may be many.
    private func cancelTasksOfRemovedTiers(configured: Set<String>) {
        let (engine, logger) = (engine, logger)
        Task {
            do {
                for tier in try engine.taskBacklog().keys.sorted() where !configured.contains(tier) {
                    let cancelled = try await engine.cancelTasks(tier: tier, reason: "tier \(tier) was removed")
                    logger.warning("tier \(tier) was removed: \(cancelled) queued tasks cancelled, their copies marked FAILED")
                }
            } catch {
                logger.error("cancelling the tasks of removed tiers failed: \(error)")
            }
        }
    }

    /// A tier's circuit breaker and failure history, for `depot status` and the metrics.
    public func status(tier: String) -> TierStatus {
        let breaker = breakers.withLock { $0[tier] } ?? Breaker()
        let state: TierStatus.BreakerState = breaker.isDown ? (breaker.probing ? .halfOpen : .open) : .closed
        return TierStatus(
            health: health.health(of: tier), breaker: state, consecutiveFailures: breaker.consecutiveFailures,
            nextProbeAt: breaker.isDown && !breaker.probing ? breaker.openUntil : nil)
    }

    /// Bytes confirmed on `tier` per second, over the last minute.
    public func bytesPerSecond(tier: String) -> Double { meter.perSecond(tier: tier, at: Engine.now()) }

    /// Bytes confirmed on `tier` since start.
    public func bytesReplicated(tier: String) -> UInt64 { meter.total(tier: tier) }

    /// Failed task attempts on `tier` since start, retries included.
    public func failures(tier: String) -> UInt64 { failedAttempts.withLock { $0[tier] ?? 0 } }

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
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // Retention scans whole buckets; on its own task it never delays dispatch.
                group.addTask { await self.runLifecycle() }
                var wakeup = wakeups.makeAsyncIterator()
                // Cancellation too (a service that failed to start cancels the group): the pause
                // returns at once then, and a loop that only knew graceful shutdown spun on it.
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    dispatchDueTasks(into: &group)
                    renewClaimsIfDue()
                    health.checkFailing(
                        now: Engine.now(), thresholds: generation.withLock { $0.tiers.mapValues(\.settings.failingAfter) })
                    await pause(wakeup: &wakeup)
                }
                // Let running copies finish; unstarted tasks stay queued for the next start.
                await group.waitForAll()
            }
        } onGracefulShutdown: {
            self.wake.yield()
        }
    }

    /// Waits for the poll interval, or less if a copy finishes first.
    private func pause(wakeup: inout AsyncStream<Void>.Iterator) async {
        let interval = pollInterval
        let timer = Task {
            // Cancelled when a copy's wakeup came first: then it must not wake the loop again.
            guard (try? await Task.sleep(for: interval)) != nil else { return }
            wake.yield()
        }
        defer { timer.cancel() }
        _ = await wakeup.next()
    }

    private func runLifecycle() async {
        var first = true
        var leading = false
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let interval = generation.withLock { $0.lifecycleInterval }
            do {
                let wait = first ? min(interval, 2000) : interval
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: .milliseconds(wait)) }
            } catch { return }
            first = false
            if Task.isShuttingDownGracefully { return }
            // Cluster mode: one node at a time runs the pass over the shared index; the others skip.
            guard await leadership.mayRun(.lifecycle) else {
                leading = false
                continue
            }
            let (retention, sweep) = generation.withLock { g in
                defer { g.classSweepDue = false }
                // A node that just took the pass over sweeps once, as at start.
                let sweep =
                    g.classSweepDue || !leading
                    ? StorageClassSweep(engine: engine, classes: g.storageClasses, logger: logger) : nil
                return (g.retention, sweep)
            }
            leading = true
            let expired = await retention.run()
            if expired > 0 { logger.info("retention expired \(expired) objects") }
            await sweep?.run()
        }
    }

    private func dispatchDueTasks(into group: inout TaskGroup<Void>) {
        let now = Engine.now()
        let (tiers, limiters) = generation.withLock { ($0.tiers, $0.limiters) }
        // Tiers that cannot take a task now: their tasks are not even read.
        var unavailable = Set<String>()
        let counts = running.withLock { $0 }
        for (name, client) in tiers {
            let inWindow = client.settings.window?.isOpen(at: now) ?? true
            let probeDue: Bool = breakers.withLock { all in
                guard let breaker = all[name], breaker.isDown else { return false }
                guard inWindow, !breaker.probing, breaker.openUntil <= now else { return false }
                all[name]?.probing = true
                return true
            }
            if breakers.withLock({ $0[name]?.isDown ?? false }) {
                unavailable.insert(name)
                if probeDue { probe(tier: name, client: client, limiter: limiters[name], into: &group) }
                continue
            }
            if counts[name, default: 0] >= client.settings.concurrency || !inWindow {
                unavailable.insert(name)
            }
        }
        // Every tier closed, full or down: reading the queue would only decode tasks to skip.
        guard unavailable.count < tiers.count else { return }
        let tasks: [TierTask]
        do {
            // Cluster mode: claimed for this node, as many as the open tiers have free slots
            // (a claim this node cannot start at once would only keep the task from another).
            let limit =
                engine.claimsWork
                ? tiers.filter { !unavailable.contains($0.key) }.reduce(0) { sum, tier in
                    sum + max(0, tier.value.settings.concurrency - counts[tier.key, default: 0])
                } : 256
            tasks = try engine.claimDueTasks(now: now, limit: limit, skipping: unavailable)
        } catch {
            logger.error("reading the task queue failed: \(error)")
            return
        }
        var notStarted: [[UInt8]] = []
        defer { releaseClaims(notStarted) }
        for task in tasks {
            guard let client = tiers[task.tier] else {
                notStarted.append(task.handle)
                continue
            }
            let admitted: Bool = running.withLock { counts in
                guard counts[task.tier, default: 0] < client.settings.concurrency else { return false }
                guard inFlight.withLock({ $0.start(task) }) else { return false }
                counts[task.tier, default: 0] += 1
                return true
            }
            guard admitted else {
                notStarted.append(task.handle)
                continue
            }
            let limiter = limiters[task.tier]
            group.addTask { [self] in
                await BandwidthLimiter.$current.withValue(limiter) {
                    await self.execute(task, on: client)
                }
                running.withLock { $0[task.tier, default: 1] -= 1 }
                inFlight.withLock { $0.finish(task) }
                wake.yield()
            }
        }
    }

    /// Cluster mode: gives back claimed tasks this node did not start (their tier filled up
    /// meanwhile, or is not configured here), so another node may take them at once.
    private func releaseClaims(_ handles: [[UInt8]]) {
        guard !handles.isEmpty else { return }
        do { try engine.releaseTaskClaims(handles) } catch {
            logger.warning("releasing \(handles.count) claimed tier tasks failed (their leases will lapse): \(error)")
        }
    }

    /// Cluster mode: renews the leases of the tasks under way here every third of the lease, so
    /// a long copy keeps its claim; a copy whose claim was lost (this node could not renew in
    /// time and another took the task over) finishes, and its outcome is dropped if the other
    /// node finished first (`finishTask` changes nothing for a task no longer queued).
    private func renewClaimsIfDue() {
        guard let lease = engine.claimLeaseSeconds else { return }
        let now = ContinuousClock.now
        let due = claimsRenewedAt.withLock { last -> Bool in
            guard now - last >= .milliseconds(Int64(lease * 1000 / 3)) else { return false }
            last = now
            return true
        }
        guard due else { return }
        let handles = Array(inFlight.withLock { $0.handles })
        guard !handles.isEmpty else { return }
        do {
            let held = try engine.renewTaskClaims(handles)
            if held.count < handles.count {
                logger.warning(
                    "\(handles.count - held.count) tier tasks running here lost their claim (finished or taken over by another node)"
                )
            }
        } catch {
            logger.warning("renewing the claims of \(handles.count) running tier tasks failed: \(error)")
        }
    }

    /// Sends one task to a tier that is down, due or not: real work makes a better probe than a
    /// test object, and if it gets through, the tier's waiting copies are retried at once.
    private func probe(tier: String, client: any TierClient, limiter: BandwidthLimiter?, into group: inout TaskGroup<Void>) {
        let task: TierTask?
        do {
            task = try engine.claimFirstTask(tier: tier)
        } catch {
            logger.error("reading the task queue failed: \(error)")
            task = nil
        }
        guard let task else {
            // Nothing left to send: the tier counts as up again.
            breakers.withLock { $0[tier] = Breaker() }
            health.idle(tier: tier, at: Engine.now())
            return
        }
        guard inFlight.withLock({ $0.start(task) }) else {
            // Its oldest task (or another of its key) is still under way from before: its outcome will tell.
            breakers.withLock {
                $0[tier]?.probing = false
                $0[tier]?.openUntil = Engine.now() + 1000
            }
            return
        }
        running.withLock { $0[tier, default: 0] += 1 }
        group.addTask { [self] in
            await BandwidthLimiter.$current.withValue(limiter) {
                await self.execute(task, on: client, probe: true)
            }
            // The probe is given back whatever the task did. A task with nothing left to copy
            // (its object deleted or replaced during the outage, or its copy already confirmed)
            // ends without a word from the tier: neither success nor failure touches the
            // breaker then, and a probe still marked under way meant no probe was ever sent
            // again, leaving the tier down and every later copy PENDING for good. Released, the
            // next dispatch probes with the next oldest task at once (its time is already due).
            breakers.withLock { $0[tier]?.probing = false }
            running.withLock { $0[tier, default: 1] -= 1 }
            inFlight.withLock { $0.finish(task) }
            wake.yield()
        }
    }

    /// Records a success on the tier's breaker; if the tier was down, retries its queue now.
    private func tierAnswered(_ tier: String) async {
        health.succeeded(tier: tier, at: Engine.now())
        let wasDown = breakers.withLock { all in
            let down = all[tier]?.isDown ?? false
            all[tier] = Breaker()
            return down
        }
        guard wasDown else { return }
        do {
            let moved = try await engine.retryNow(tier: tier)
            logger.info("tier \(tier) answers again: \(moved) waiting copies retried now")
        } catch {
            logger.error("rescheduling the tasks of tier \(tier) failed: \(error)")
        }
    }

    /// Runs one task and records its outcome. A failed probe does not count toward the task's
    /// attempts limit: the tier being down says nothing about this object, and a long outage
    /// must not turn queued copies into FAILED ones.
    private func execute(_ task: TierTask, on client: any TierClient, probe: Bool = false) async {
        let outcome: TaskOutcome
        do {
            if task.kind == .delete {
                try await client.delete(bucket: task.bucket, key: task.key)
                try await engine.finishTask(task, outcome: .completed)
                await tierAnswered(task.tier)
                return
            }
            // Ciphertext copies open the object without its key (SSE-C too): sealedPayload only.
            let sealed = sendsCiphertext(
                tier: task.tier, bucket: task.bucket, key: task.key,
                record: try engine.headObject(bucket: task.bucket, key: task.key))
            var source = try engine.openObject(bucket: task.bucket, key: task.key, sealed: sealed)
            let isCurrent = source?.record.created == task.objectCreated
            if !isCurrent {
                // Replaced since: a task for every version still copies it to its own key.
                source = try engine.olderVersionOrder(of: task).flatMap {
                    try engine.openObject(bucket: task.bucket, key: task.key, version: .order($0), sealed: sealed)
                }
            }
            guard let reader = source else {
                // Replaced or deleted since: the task is obsolete (a delete cancels its copies).
                try await engine.finishTask(task, outcome: .completed)
                return
            }
            // Idempotent: a copy the tier already confirmed is not sent again (a task may be
            // queued twice by an on-demand request racing a policy).
            if reader.record.replicas.contains(where: { $0.tier == task.tier && $0.state == .completed }) {
                try await engine.finishTask(task, outcome: .completed)
                return
            }
            // The version's own copy first, so a COMPLETED version always has one; then, while
            // it is current, the plain key other readers of the tier expect.
            if task.everyVersion, let versionId = VersionCopyKey.versionId(of: reader.record) {
                try await send(
                    reader, to: client, bucket: task.bucket, key: VersionCopyKey.key(task.key, versionId: versionId),
                    sealed: sealed)
                meter.record(tier: task.tier, bytes: reader.record.size, at: Engine.now())
            }
            if isCurrent {
                try await send(reader, to: client, bucket: task.bucket, key: task.key, sealed: sealed)
                meter.record(tier: task.tier, bytes: reader.record.size, at: Engine.now())
            }
            try await engine.finishTask(task, outcome: .completed)
            logger.debug("replicated \(task.bucket)/\(task.key) to \(task.tier)")
            await tierAnswered(task.tier)
            if isCurrent { await evictIfMoved(bucket: task.bucket, key: task.key) }
            return
        } catch is CustomerKeyEncryption.Refusal {
            // SSE-C: the customer's key left with its request; without it there is nothing to send.
            if probe { breakers.withLock { $0[task.tier]?.probing = false } }
            logger.warning("\(task.bucket)/\(task.key) is not replicated to \(task.tier): it is SSE-C encrypted")
            outcome = .failed(
                error: "SSE-C object: encrypted with a customer-provided key the server does not keep, so it cannot be "
                    + "replicated in plaintext (a policy with replicate.encryptedObjects: ciphertext sends its ciphertext)",
                retryAt: Engine.now(), giveUp: true)
        } catch  where TierError.isPermanent(error) {
            // This object, not the tier: FAILED at once with the reason, and not counted by the
            // breaker, so one writer's odd keys cannot stall the tier for everybody else.
            if probe { breakers.withLock { $0[task.tier]?.probing = false } }
            logger.warning("replicating \(task.bucket)/\(task.key) to \(task.tier) failed for good: \(error)")
            outcome = .failed(error: "\(error)", retryAt: Engine.now(), giveUp: true)
        } catch {
            let attempts = task.attempts + 1
            let delay = Self.backoff(attempt: attempts)
            let now = Engine.now()
            breakers.withLock { all in
                var breaker = all[task.tier] ?? Breaker()
                breaker.consecutiveFailures += 1
                if probe {
                    breaker.probing = false
                    breaker.probesFailed += 1
                }
                if breaker.isDown { breaker.openUntil = now + breaker.probeInterval }
                all[task.tier] = breaker
            }
            logger.warning("replicating \(task.bucket)/\(task.key) to \(task.tier) failed (attempt \(attempts)): \(error)")
            health.failed(tier: task.tier, error: "\(error)", at: now)
            outcome = .failed(
                error: "\(error)", retryAt: Engine.now() + delay,
                giveUp: !probe && attempts >= min(maxAttempts, UInt32(client.settings.maxAttempts)))
        }
        failedAttempts.withLock { $0[task.tier, default: 0] += 1 }
        do {
            try await engine.finishTask(task, outcome: outcome)
        } catch {
            logger.error("recording the outcome of a tier task failed: \(error)")
        }
    }

    /// The tiers that must all hold a confirmed copy before the object's local copy goes, when it
    /// is to go now: the tier of the storage class it was put in, or the targets of a transition
    /// policy it is due under; nil when it stays.
    func evictionTargets(bucket: String, key: String, record: ObjectRecord) -> [String]? {
        let (policies, classes) = generation.withLock { ($0.policies, $0.storageClasses) }
        if let tier = classes.targetTier(of: record) { return [tier] }
        let now = Retention.now()
        for policy in policies
        where policy.transitions && (policy.transitionDue(created: record.created).map { $0 < now } ?? false)
            && policy.matches(bucket: bucket, key: key, record: record)
        {
            return policy.replicateTo
        }
        return nil
    }

    /// After a copy was confirmed: evicts the local bytes of an object that was put in that
    /// tier's storage class, or that a transition is moving there, once every tier it needs
    /// holds it, so the move ends with the copy instead of at the next retention pass.
    private func evictIfMoved(bucket: String, key: String) async {
        do {
            guard let record = try engine.headObject(bucket: bucket, key: key), record.localState == .present,
                let targets = evictionTargets(bucket: bucket, key: key, record: record)
            else { return }
            if try await engine.evict(bucket: bucket, key: key, created: record.created, confirmedOn: targets) {
                logger.info("moved \(bucket)/\(key) to \(targets.joined(separator: ", ")): its local copy was evicted")
            }
        } catch {
            logger.warning("evicting the local copy of \(bucket)/\(key) failed: \(error)")
        }
    }

    /// Exponential backoff with full jitter: up to 1 s, 2 s, 4 s, … capped at 5 minutes.
    static func backoff(attempt: UInt32) -> Int64 {
        let ceiling = min(Int64(300_000), Int64(1000) << Int64(min(attempt, 20)))
        return Int64.random(in: ceiling / 2...ceiling)
    }
}

/// The tasks this node runs now, and the keys they copy or delete on their tiers.
///
/// One key's tasks on one tier run one at a time, in the order they are taken (due time): a task
/// decides at its start whether its object is current and so goes to the tier's plain key, and
/// tasks of one key running at once let an overwritten object's slow copy land on the plain key
/// after its replacement's, leaving the tier (and Depot's reads through it once a move evicts the
/// local copy) with the older bytes (test_tier_key_order). A task whose key is busy stays queued
/// and is taken again when the running one ends (each end wakes the dispatcher).
/// In cluster mode the claim keeps it across the nodes: a node cannot claim a task of a key while
/// an earlier one is queued or held by another (PostgresIndex+Claims.swift, migration 5).
struct TasksInFlight {
    private struct KeyOnTier: Hashable {
        let tier: String
        let bucket: String
        let key: String
        init(_ task: TierTask) { (tier, bucket, key) = (task.tier, task.bucket, task.key) }
    }
    private(set) var handles = Set<[UInt8]>()
    private var keys = Set<KeyOnTier>()

    /// Marks `task` under way: false if it already is, or another task of its key and tier is.
    mutating func start(_ task: TierTask) -> Bool {
        guard !handles.contains(task.handle), !keys.contains(KeyOnTier(task)) else { return false }
        handles.insert(task.handle)
        keys.insert(KeyOnTier(task))
        return true
    }

    mutating func finish(_ task: TierTask) {
        handles.remove(task.handle)
        keys.remove(KeyOnTier(task))
    }
}
