import AsyncHTTPClient
import DepotConfig
import DepotEngine
import Logging
import ServiceLifecycle
import Synchronization

/// Drains the outbox into the sinks, at least once and in order.
///
/// Each sink has its own cursor (the sequence of the last event it delivered or skipped, kept in
/// the index) and its own task: a sink that is down waits out its backoff without holding up the
/// others, and without slowing uploads, which only write the outbox. Events every sink is past
/// are trimmed. When the outbox reaches its bound, `whenFull: refuse` makes new uploads wait
/// (503 SlowDown, in the engine), and `dropOldest` moves the laggard's cursor on, counted and
/// logged. In cluster mode the nodes share the outbox and claim it in batches instead
/// (`drainClaimed`): no cursors, each batch delivered by the node that claimed it, then deleted.
public final class EventDispatcher: Service, Sendable {
    let engine: Engine
    let client: HTTPClient
    let logger: Logger
    let region: String
    let settings: Mutex<EventSettings>
    private let states = Mutex<[String: SinkState]>([:])
    /// The wake-up of every running sink loop, by a number of its own: after a reload a sink's new
    /// loop runs beside the old one for a moment, so the sink's name would not tell them apart
    /// (the old loop, ending, took the new one's wake-up away, and the new one then slept through
    /// shutdown).
    private let wakeups = Mutex<[Int: AsyncStream<Void>.Continuation]>([:])
    private let nextLoopNumber = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)
    /// Sink loops started and not yet ended.
    private let runningLoops = Atomic<Int>(0)

    /// How long a graceful stop waits for deliveries in flight before cancelling them; a
    /// cancelled delivery leaves its cursor where it was, so its events stay in the outbox and go
    /// out again at the next start (delivery is at least once).
    public static let shutdownGrace: Duration = .seconds(5)

    /// What `depot events status` shows of a sink.
    public struct SinkState: Sendable {
        public var cursor: UInt64 = 0
        public var delivered: UInt64 = 0
        public var dropped: UInt64 = 0
        public var lastError = ""
        public var lastErrorTime: Int64 = 0
        public var failing = false
    }

    public init(
        engine: Engine, settings: EventSettings, client: HTTPClient, region: String, logger: Logger
    ) throws {
        self.engine = engine
        self.client = client
        self.region = region
        self.logger = logger
        self.settings = Mutex(settings)
        try configureEngine(settings)
    }

    private func configureEngine(_ settings: EventSettings) throws {
        try engine.configureOutbox(
            kinds: settings.recordedKinds, maxEvents: settings.maxEvents, refuseWhenFull: settings.whenFull == .refuse,
            onCommitted: { [weak self] in self?.wakeAll() })
    }

    /// Puts new sink settings in place (configuration reload): sinks added start, removed ones
    /// stop, changed ones restart with their cursor kept.
    public func apply(_ newSettings: EventSettings) throws {
        settings.withLock { $0 = newSettings }
        try configureEngine(newSettings)
        generation.add(1, ordering: .relaxed)
        wakeAll()
    }

    func wakeAll() {
        for continuation in wakeups.withLock({ Array($0.values) }) { continuation.yield() }
    }

    public func run() async throws {
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Bool.self) { group in
                var seenGeneration = -1
                var sharedRounds = 0
                while !Task.isShuttingDownGracefully && !Task.isCancelled {
                    // A new configuration ends every sink's loop (they check the generation) and
                    // starts one per sink it names; cursors are in the index, so nothing is lost.
                    let current = generation.load(ordering: .relaxed)
                    if current != seenGeneration {
                        seenGeneration = current
                        let configured = settings.withLock { $0 }
                        // Cluster mode: one loop claims batches of the shared outbox for every sink.
                        if engine.claimsWork && !configured.sinks.isEmpty {
                            runningLoops.add(1, ordering: .relaxed)
                            group.addTask {
                                await self.drainClaimed(configured, generation: current)
                                self.runningLoops.subtract(1, ordering: .relaxed)
                                return false
                            }
                        }
                        for sink in configured.sinks where !engine.claimsWork {
                            let routes = SinkRoutes(sink: sink, settings: configured)
                            runningLoops.add(1, ordering: .relaxed)
                            group.addTask {
                                await self.drain(routes, generation: current)
                                self.runningLoops.subtract(1, ordering: .relaxed)
                                return false
                            }
                        }
                    }
                    // Cursors and trimming are embedded mode's; claimed events are deleted once
                    // delivered, and the shared outbox's bound is enforced every few seconds.
                    if !engine.claimsWork {
                        await housekeeping()
                    } else {
                        sharedRounds += 1
                        if sharedRounds % 5 == 0 { await sharedOutboxHousekeeping() }
                    }
                    try? await Task.sleep(for: .seconds(1))
                }
                wakeAll()
                await finishLoops(&group)
            }
        } onGracefulShutdown: {
            self.wakeAll()
        }
    }

    /// Waits for the sink loops to end, at most `shutdownGrace`; then cancels the deliveries
    /// still in flight (a sink that accepts a connection and never answers would otherwise hold
    /// the stop for its whole timeout, per event).
    private func finishLoops(_ group: inout TaskGroup<Bool>) async {
        guard runningLoops.load(ordering: .relaxed) > 0 else {
            group.cancelAll()
            return
        }
        group.addTask {
            // True: the grace period is over (or the whole dispatcher was cancelled).
            try? await Task.sleep(for: Self.shutdownGrace)
            return true
        }
        while let graceOver = await group.next() {
            if graceOver && runningLoops.load(ordering: .relaxed) > 0 {
                logger.warning(
                    "event deliveries still running after \(Self.shutdownGrace) of shutdown: cancelled; their events stay in the outbox"
                )
            }
            if graceOver || runningLoops.load(ordering: .relaxed) == 0 { group.cancelAll() }
        }
    }

    /// One sink's loop: read after the cursor, deliver what the sink's routes want (its own match
    /// and the bucket notifications naming it), move the cursor.
    private func drain(_ routes: SinkRoutes, generation started: Int) async {
        let sink = routes.sink
        let (wake, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let loopNumber = nextLoopNumber.add(1, ordering: .relaxed).newValue
        wakeups.withLock { $0[loopNumber] = continuation }
        defer { wakeups.withLock { _ = $0.removeValue(forKey: loopNumber) } }
        var wakeIterator = wake.makeAsyncIterator()
        var target: any EventSink
        do {
            target = try makeSink(sink)
        } catch {
            record(sink.name, error: "\(error)")
            logger.error("event sink \(sink.name) cannot start: \(error)")
            return
        }
        /// False once the loop must end: shutdown, cancellation or a newer configuration.
        func current() -> Bool {
            !Task.isShuttingDownGracefully && !Task.isCancelled && generation.load(ordering: .relaxed) == started
        }

        var cursor = (try? engine.eventCursor(sink: sink.name)) ?? 0
        states.withLock { $0[sink.name, default: SinkState()].cursor = cursor }
        var failures = 0
        while current() {
            // dropOldest may have moved the cursor on.
            cursor = max(cursor, states.withLock { $0[sink.name]?.cursor ?? 0 })
            let events: [EventRecord]
            do {
                events = try engine.outboxEvents(after: cursor, limit: 100)
            } catch {
                logger.error("reading the outbox failed: \(error)")
                await pause(&wakeIterator, continuation, for: .seconds(1))
                continue
            }
            // Routes are this loop's: a newer configuration (a bucket's notifications changed) may
            // have come in since the check above, and events read after it must be matched by the
            // next loop's routes. Still current here: every event read was committed before the
            // change was acknowledged, so the old routes are the right ones for them.
            guard current() else { break }
            if events.isEmpty {
                await pause(&wakeIterator, continuation, for: .seconds(2))
                continue
            }
            let messages = events.compactMap { event in
                routes.configurationId(for: event).map {
                    EventFormat.message(event, sink: sink, configurationId: $0, region: region)
                }
            }
            do {
                if !messages.isEmpty {
                    let sending = target
                    try await untilCancelled { try await sending.deliver(messages) }
                }
                cursor = events.last!.sequence
                try await engine.setEventCursor(sink: sink.name, to: cursor)
                failures = 0
                states.withLock {
                    $0[sink.name, default: SinkState()].cursor = max($0[sink.name]?.cursor ?? 0, cursor)
                    $0[sink.name]?.delivered += UInt64(messages.count)
                    $0[sink.name]?.failing = false
                }
            } catch {
                // Cancelled at the end of a stop: not the sink's failure; the events stay pending.
                if Task.isCancelled { break }
                failures += 1
                record(sink.name, error: "\(error)")
                // A broker client may hold state that no longer fits the broker (an idempotent
                // Kafka producer's sequence after the broker restarted empty, a dead AMQP
                // channel): the next attempt starts with a new client.
                if sink.kind == .kafka || sink.kind == .rabbitmq, let fresh = try? makeSink(sink) {
                    let old = target
                    target = fresh
                    await old.shutdown()
                }
                if failures == 1 || failures % 20 == 0 {
                    logger.warning("event sink \(sink.name): delivery failed (attempt \(failures)), will retry: \(error)")
                }
                // New events must not cut the backoff short (that would hammer a sink that is
                // down at the upload rate); a shutdown or a reload does.
                let deadline = ContinuousClock.now + Self.backoff(failures)
                while ContinuousClock.now < deadline && current() {
                    await pause(&wakeIterator, continuation, for: deadline - ContinuousClock.now)
                }
            }
        }
        let closing = target
        _ = try? await untilCancelled { await closing.shutdown() }
    }

    /// Cluster mode's loop (README "Cluster mode"): claims a batch of the oldest events no node
    /// holds (`Engine.claimOutboxEvents`, a lease renewed while the batch is under way), delivers
    /// it to every sink whose routes want its events, and deletes the rows once all of them took
    /// it. So each event goes out once in normal operation, from whichever node claimed it; when
    /// a node dies mid-batch its lease lapses and another node delivers the batch again (at least
    /// once). A sink that fails is retried with backoff while the claim is held, and sinks that
    /// took the batch are not sent it again. Order holds within a batch; batches claimed by
    /// different nodes go out side by side. There are no cursors: the outbox holds exactly what
    /// is still to deliver.
    private func drainClaimed(_ configured: EventSettings, generation started: Int) async {
        let (wake, continuation) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        let loopNumber = nextLoopNumber.add(1, ordering: .relaxed).newValue
        wakeups.withLock { $0[loopNumber] = continuation }
        defer { wakeups.withLock { _ = $0.removeValue(forKey: loopNumber) } }
        var wakeIterator = wake.makeAsyncIterator()
        var targets: [(routes: SinkRoutes, sink: any EventSink)] = []
        for sink in configured.sinks {
            do {
                targets.append((SinkRoutes(sink: sink, settings: configured), try makeSink(sink)))
            } catch {
                record(sink.name, error: "\(error)")
                logger.error("event sink \(sink.name) cannot start: \(error)")
            }
        }
        func current() -> Bool {
            !Task.isShuttingDownGracefully && !Task.isCancelled && generation.load(ordering: .relaxed) == started
        }
        let lease = engine.claimLeaseSeconds ?? 30
        while current() && !targets.isEmpty {
            var events: [EventRecord]
            do {
                events = try engine.claimOutboxEvents(limit: 100)
            } catch {
                logger.error("claiming events of the outbox failed: \(error)")
                await pause(&wakeIterator, continuation, for: .seconds(1))
                continue
            }
            guard !events.isEmpty else {
                // Other nodes' commits do not wake this one: a short poll.
                await pause(&wakeIterator, continuation, for: .seconds(1))
                continue
            }
            let sequences = events.map(\.sequence)
            let engine = engine
            let logger = logger
            // Renews the batch's lease every third of it while it is delivered or retried.
            let renewal = Task {
                while !Task.isCancelled {
                    guard (try? await Task.sleep(for: .milliseconds(Int(lease * 1000 / 3)))) != nil else { return }
                    do { _ = try engine.renewOutboxClaims(sequences) } catch {
                        logger.warning("renewing the claim on \(sequences.count) events failed: \(error)")
                    }
                }
            }
            var pending = Array(targets.indices)
            var failures = 0
            while !pending.isEmpty && current() {
                var failed: [Int] = []
                for index in pending {
                    let (routes, target) = targets[index]
                    let sink = routes.sink
                    let messages = events.compactMap { event in
                        routes.configurationId(for: event).map {
                            EventFormat.message(event, sink: sink, configurationId: $0, region: region)
                        }
                    }
                    do {
                        if !messages.isEmpty { try await untilCancelled { try await target.deliver(messages) } }
                        states.withLock {
                            $0[sink.name, default: SinkState()].delivered += UInt64(messages.count)
                            $0[sink.name]?.failing = false
                        }
                    } catch {
                        if Task.isCancelled { break }
                        failed.append(index)
                        record(sink.name, error: "\(error)")
                        if sink.kind == .kafka || sink.kind == .rabbitmq, let fresh = try? makeSink(sink) {
                            targets[index].sink = fresh
                            await target.shutdown()
                        }
                        if failures == 0 || (failures + 1) % 20 == 0 {
                            logger.warning(
                                "event sink \(sink.name): delivery failed (attempt \(failures + 1)), will retry: \(error)")
                        }
                    }
                }
                if Task.isCancelled { break }
                pending = failed
                guard !pending.isEmpty else { break }
                failures += 1
                let deadline = ContinuousClock.now + Self.backoff(failures)
                while ContinuousClock.now < deadline && current() {
                    await pause(&wakeIterator, continuation, for: deadline - ContinuousClock.now)
                }
                // While a sink was away the full shared outbox may have dropped some of these
                // (whenFull: dropOldest), or another node taken over a lapsed claim: send only
                // the events this node still holds.
                if let held = try? engine.renewOutboxClaims(events.map(\.sequence)), held.count < events.count {
                    events = events.filter { held.contains($0.sequence) }
                    if events.isEmpty { pending = [] }
                }
            }
            renewal.cancel()
            do {
                if pending.isEmpty {
                    try engine.removeDeliveredEvents(events.map(\.sequence))
                } else {
                    // Stopping or reloading with sinks still to serve: the batch goes back whole
                    // (a sink that already took it gets it again: at least once).
                    try engine.releaseOutboxClaims(sequences)
                }
            } catch {
                // The rows stay claimed until the lease lapses; then a node delivers them again.
                logger.error("ending the claim on \(sequences.count) events failed: \(error)")
            }
        }
        for (_, target) in targets { _ = try? await untilCancelled { await target.shutdown() } }
    }

    func makeSink(_ sink: SinkSettings) throws -> any EventSink {
        switch sink.kind {
        case .webhook: return WebhookSink(settings: sink, client: client)
        case .sqs: return SQSSink(settings: sink, client: client)
        case .kafka: return try KafkaSink(settings: sink, logger: logger)
        case .rabbitmq: return try RabbitMQSink(settings: sink)
        }
    }

    private func record(_ sink: String, error: String) {
        states.withLock {
            $0[sink, default: SinkState()].lastError = error
            $0[sink]?.lastErrorTime = Engine.now()
            $0[sink]?.failing = true
        }
    }

    /// Waits `duration`, or until the sink is woken (an event committed, a reload, shutdown); at
    /// once when the task is cancelled.
    private func pause(
        _ wake: inout AsyncStream<Void>.Iterator, _ continuation: AsyncStream<Void>.Continuation, for duration: Duration
    ) async {
        let timer = Task {
            guard (try? await Task.sleep(for: duration)) != nil else { return }
            continuation.yield()
        }
        defer { timer.cancel() }
        _ = await wake.next()
    }

    /// 1 s, 2 s, 4 s … at most a minute, with jitter.
    static func backoff(_ failures: Int) -> Duration {
        let ceiling = min(60_000, 1000 << min(failures - 1, 6))
        return .milliseconds(Int.random(in: ceiling / 2...ceiling))
    }

    /// Trims what every sink has passed, and enforces `dropOldest` at the bound.
    private func housekeeping() async {
        let current = settings.withLock { $0 }
        guard !current.sinks.isEmpty else { return }
        let cursors = current.sinks.map { sink in states.withLock { $0[sink.name]?.cursor } ?? 0 }
        let low = cursors.min() ?? 0
        if low > 0 {
            do {
                try await engine.trimOutbox(through: low)
            } catch {
                logger.error("trimming the outbox failed: \(error)")
            }
        }
        guard current.whenFull == .dropOldest, engine.outboxCount > current.maxEvents else { return }
        // Drop a tenth of the bound from the laggards' oldest, so this does not run per event.
        let excess = engine.outboxCount - current.maxEvents * 9 / 10
        guard let events = try? engine.outboxEvents(after: low, limit: excess), let last = events.last else { return }
        for sink in current.sinks {
            let moved: UInt64 = states.withLock { all in
                guard let state = all[sink.name], state.cursor < last.sequence else { return 0 }
                let skipped = UInt64(events.filter { $0.sequence > state.cursor }.count)
                all[sink.name]?.cursor = last.sequence
                all[sink.name]?.dropped += skipped
                return skipped
            }
            if moved > 0 {
                try? await engine.setEventCursor(sink: sink.name, to: last.sequence)
                logger.warning(
                    "event sink \(sink.name) is behind and the outbox is full: dropped its \(moved) oldest events (whenFull: dropOldest)"
                )
            }
        }
    }

    /// Cluster mode's outbox is shared: its size is counted in the index (every node's events, so
    /// `whenFull: refuse` refuses at the cluster's bound, not at this node's share of it), and
    /// `dropOldest` drops the cluster's oldest events, a tenth of the bound below it, which every
    /// sink then misses (counted as dropped for each). Two nodes trimming at once both start at
    /// the oldest key, so they mostly delete the same events.
    private func sharedOutboxHousekeeping() async {
        let current = settings.withLock { $0 }
        guard !current.sinks.isEmpty, let count = try? engine.countOutbox() else { return }
        guard current.whenFull == .dropOldest, count > current.maxEvents else { return }
        let excess = count - current.maxEvents * 9 / 10
        do {
            guard let last = try engine.outboxEvents(after: 0, limit: excess).last else { return }
            let dropped = try await engine.trimOutbox(through: last.sequence)
            guard dropped > 0 else { return }
            states.withLock { all in
                for sink in current.sinks { all[sink.name, default: SinkState()].dropped += UInt64(dropped) }
            }
            logger.warning(
                "the shared event outbox is full: dropped its \(dropped) oldest events for every sink (whenFull: dropOldest)")
        } catch {
            logger.error("trimming the shared outbox failed: \(error)")
        }
    }

    /// Per sink: its ARN (what bucket notification configurations name it by), how many of them
    /// do, backlog (events after its cursor), the oldest one's age, delivered, dropped, and the
    /// last error.
    public func status() -> [[String: Any]] {
        let configured = settings.withLock { $0 }
        let now = Engine.now()
        return configured.sinks.map { sink in
            let routes = SinkRoutes(sink: sink, settings: configured)
            let state = states.withLock { $0[sink.name] } ?? SinkState()
            let pending = (try? engine.outboxEvents(after: state.cursor, limit: 100_000)) ?? []
            let wanted = pending.filter { routes.configurationId(for: $0) != nil }
            var entry: [String: Any] = [
                "name": sink.name, "type": sink.kind.rawValue, "format": sink.format.rawValue, "arn": sink.arn,
                "bucketNotifications": routes.ruleCount, "backlog": wanted.count,
                "oldestPendingAgeSeconds": wanted.first.map { max(0, now - $0.time) / 1000 } ?? 0,
                "delivered": state.delivered, "dropped": state.dropped, "failing": state.failing,
                "lastError": state.lastError,
            ]
            if state.lastErrorTime > 0 { entry["lastErrorTime"] = state.lastErrorTime }
            return entry
        }
    }
}
