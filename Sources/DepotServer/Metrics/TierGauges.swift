import CoreMetrics
import DepotEngine
import Synchronization

/// The per-tier replication gauges: backlog, the age of the oldest waiting task (since it was
/// first queued, so a failing tier's keeps growing), whether the tier is failing, its breaker
/// and its failures in a row. Refreshed with the other gauges and, at most once a second,
/// before a scrape, so an alert sees a failing tier without waiting for the next refresh.
enum TierGauges {
    private static let lastRefresh = Atomic<Int64>(0)

    static func refresh(_ gauges: StorageGauges) throws {
        let backlogs = try gauges.engine.tierBacklogs()
        let now = Engine.now()
        lastRefresh.store(now, ordering: .relaxed)
        for tier in gauges.tierNames() {
            let backlog = backlogs[tier] ?? TierBacklog()
            let labels = [("tier", tier)]
            Gauge(label: "depot_replication_backlog", dimensions: labels).record(backlog.count)
            Gauge(label: "depot_replication_oldest_pending_seconds", dimensions: labels)
                .record(backlog.oldestPendingSeconds(now: now))
            Gauge(label: "depot_replication_bytes_per_second", dimensions: labels)
                .record(gauges.tiering.bytesPerSecond(tier: tier))
            Gauge(label: "depot_replicated_bytes", dimensions: labels).record(Int64(gauges.tiering.bytesReplicated(tier: tier)))
        }
        refreshHealth(gauges)
    }

    /// What the tiering service holds in memory: cheap, so brought up to date at every scrape.
    static func refreshHealth(_ gauges: StorageGauges) {
        for tier in gauges.tierNames() {
            let status = gauges.tiering.status(tier: tier)
            let labels = [("tier", tier)]
            Gauge(label: "depot_tier_failing", dimensions: labels).record(status.health.failing ? 1 : 0)
            Gauge(label: "depot_tier_breaker_open", dimensions: labels).record(status.breaker == .closed ? 0 : 1)
            Gauge(label: "depot_tier_consecutive_failures", dimensions: labels).record(status.consecutiveFailures)
        }
    }

    /// Before a scrape: the health gauges, and the backlog ones if more than a second old.
    static func refreshIfStale(_ gauges: StorageGauges) throws {
        guard Engine.now() - lastRefresh.load(ordering: .relaxed) > 1000 else { return refreshHealth(gauges) }
        try refresh(gauges)
    }
}
