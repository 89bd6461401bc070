import CoreMetrics
import DepotEngine
import DepotEvents
import DepotTiering
import Logging
import ServiceLifecycle
import Synchronization

/// Gauges that come from the index: objects and bytes per bucket, what the segments hold, the
/// dedup ratio, the replication backlog per tier and the event backlog per sink. Computing
/// them walks the index, so they are refreshed on a schedule (and once before the first
/// scrape), not on every scrape.
final class StorageGauges: Service, Sendable {
    let engine: Engine
    let tiering: TieringService
    let events: EventDispatcher
    let tierNames: @Sendable () -> [String]
    let logger: Logger
    let interval: Duration

    init(
        engine: Engine, tiering: TieringService, events: EventDispatcher, tierNames: @escaping @Sendable () -> [String],
        logger: Logger, interval: Duration = .seconds(15)
    ) {
        self.engine = engine
        self.tiering = tiering
        self.events = events
        self.tierNames = tierNames
        self.logger = logger
        self.interval = interval
    }

    func run() async throws {
        // Said once per run of failures (a cluster index outage lasts many intervals), and once
        // when a refresh succeeds again.
        var failing = false
        repeat {
            do {
                try refresh()
                if failing { logger.notice("refreshing the storage metrics works again") }
                failing = false
            } catch {
                if !failing { logger.warning("refreshing the storage metrics failed: \(error); retried every \(interval)") }
                failing = true
            }
        } while await pauseUnlessShuttingDown(interval)
    }

    private let refreshed = Atomic<Bool>(false)
    /// Per tier, the failures already added to `depot_replication_failures_total`.
    private let countedFailures = Mutex<[String: UInt64]>([:])

    /// The first scrape after start must not see empty gauges.
    func refreshIfNeverRan() throws {
        if !refreshed.load(ordering: .relaxed) { try refresh() }
    }

    /// Before every scrape: the gauges if they never ran, and the counters that cost nothing
    /// to bring up to date (a failing tier shows at once, not at the next refresh).
    func prepareForScrape() throws {
        refreshReplicationFailures()
        try refreshIfNeverRan()
        try TierGauges.refreshIfStale(self)
    }

    /// `depot_replication_failures_total` per tier: a counter fed with the failures since the
    /// last call, so Prometheus' rate() and increase() work on it.
    func refreshReplicationFailures() {
        for tier in tierNames() {
            // Under the lock, so two refreshes at once never count the same failures twice.
            let added = countedFailures.withLock { counted in
                let failures = tiering.failures(tier: tier)
                let before = counted[tier] ?? 0
                counted[tier] = max(before, failures)
                return failures > before ? failures - before : 0
            }
            Counter(label: "depot_replication_failures_total", dimensions: [("tier", tier)]).increment(by: Int64(added))
        }
    }

    func refresh() throws {
        defer { refreshed.store(true, ordering: .relaxed) }
        var logicalTotal: UInt64 = 0
        var objectsTotal = 0
        for bucket in try engine.listBuckets() {
            var objects = 0
            var bytes: UInt64 = 0
            var after = ""
            while true {
                let page = try engine.listObjects(bucket: bucket.name, startAfter: after, maxKeys: 1000)
                for (_, record) in page.objects where record.localState == .present {
                    objects += 1
                    bytes += record.size
                }
                guard page.isTruncated, let last = page.lastReturned else { break }
                after = last
            }
            Gauge(label: "depot_objects", dimensions: [("bucket", bucket.name)]).record(objects)
            Gauge(label: "depot_logical_bytes", dimensions: [("bucket", bucket.name)]).record(Int64(bytes))
            logicalTotal += bytes
            objectsTotal += objects
        }
        let stats = try engine.statistics()
        Gauge(label: "depot_objects_total").record(objectsTotal)
        Gauge(label: "depot_logical_bytes_total").record(Int64(logicalTotal))
        Gauge(label: "depot_stored_bytes").record(Int64(stats.liveBytes))
        Gauge(label: "depot_dedup_ratio").record(stats.liveBytes == 0 ? 1 : Double(logicalTotal) / Double(stats.liveBytes))
        Gauge(label: "depot_segments").record(stats.segments)
        Gauge(label: "depot_segment_bytes").record(Int64(stats.segmentBytes))
        Gauge(label: "depot_segment_live_ratio").record(stats.liveRatio)
        Gauge(label: "depot_index_map_bytes").record(stats.indexMapBytes)
        Gauge(label: "depot_index_used_bytes").record(stats.indexUsedBytes)
        Gauge(label: "depot_outbox_events").record(stats.outboxEvents)
        if let space = engine.space() {
            Gauge(label: "depot_device_free_bytes").record(Int64(space.freeBytes))
            Gauge(label: "depot_device_total_bytes").record(Int64(space.totalBytes))
            Gauge(label: "depot_space_reserve_bytes").record(Int64(space.reserveBytes))
            Gauge(label: "depot_space_refusals").record(space.refusals)
        }
        refreshReplicationFailures()
        try TierGauges.refresh(self)
        for sink in events.status() {
            let name = sink["name"] as? String ?? ""
            Gauge(label: "depot_event_backlog", dimensions: [("sink", name)]).record(sink["backlog"] as? Int ?? 0)
            Gauge(label: "depot_event_oldest_pending_seconds", dimensions: [("sink", name)])
                .record(Double(sink["oldestPendingAgeSeconds"] as? Int64 ?? 0))
            Gauge(label: "depot_events_delivered", dimensions: [("sink", name)]).record(Int64(sink["delivered"] as? UInt64 ?? 0))
            Gauge(label: "depot_events_dropped", dimensions: [("sink", name)]).record(Int64(sink["dropped"] as? UInt64 ?? 0))
        }
    }
}
