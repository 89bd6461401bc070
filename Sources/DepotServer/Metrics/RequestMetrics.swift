import CoreMetrics
import Foundation
import Metrics
import Prometheus
import Synchronization

/// Depot's Prometheus registry. swift-metrics is bootstrapped with it once per process, so the
/// counters, timers and gauges made anywhere through swift-metrics end up at `/metrics`.
enum DepotMetrics {
    static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(1), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
            .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5),
            .seconds(10), .seconds(30), .seconds(60),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }()

    static func exposition() -> [UInt8] {
        var buffer: [UInt8] = []
        registry.emit(into: &buffer)
        return MetricHelp.exposition(addingHelpTo: buffer)
    }
}

/// Per request: its count and latency by API, operation and status class, and bytes in and out.
/// The labels are bounded sets: the API is the front door that answered (or `system` for the
/// server's own endpoints), the operation is the name that front door's endpoint table gave the
/// request (`unknown` when the table has no entry for it), never a path.
struct RequestMetrics {
    let started = ContinuousClock.now

    /// The operation label of a request no endpoint table names: the same word in every API.
    static let unknownOperation = "unknown"

    var elapsedMilliseconds: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    /// Counts the finished request.
    func finish(api: String, operation: String, status: Int, bytesIn: Int, bytesOut: Int, errorCode: String? = nil) {
        let handles = RequestMetricHandles.handles(api: api, operation: operation, statusClass: status / 100)
        handles.requests.increment()
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        handles.duration.recordNanoseconds(nanoseconds)
        // The code is the server's own choice from a fixed set (S3, Vault and admin codes), never client text.
        if status >= 400 { RequestMetricHandles.errors(api: api, code: errorCode ?? "HTTP\(status)").increment() }
        if bytesIn > 0 { handles.bytesReceived.increment(by: bytesIn) }
        if bytesOut > 0 { handles.bytesSent.increment(by: bytesOut) }
    }
}

/// The metric objects of each label set, made once and kept. `Counter(label:dimensions:)` asks
/// the factory on every call: the Prometheus registry validates the name and every label, hashes
/// the label set and looks it up under its lock, and a new handle object is made; four of those
/// per request were 2.5% of a 4 KiB GET's server CPU (perf, 2026-12-05 night). Here one
/// lookup in a small table under one lock finds all of a request's metrics. The label sets are
/// bounded (APIs, their endpoint tables' operations, status classes, the server's error codes),
/// so the table is too.
enum RequestMetricHandles {
    struct Key: Hashable {
        let api: String
        let operation: String
        let statusClass: Int
    }

    final class Handles: Sendable {
        let requests: CoreMetrics.Counter
        let duration: CoreMetrics.Timer
        let bytesReceived: CoreMetrics.Counter
        let bytesSent: CoreMetrics.Counter

        init(_ key: Key) {
            requests = CoreMetrics.Counter(
                label: "depot_requests_total",
                dimensions: [("api", key.api), ("operation", key.operation), ("status", "\(key.statusClass)xx")])
            duration = CoreMetrics.Timer(
                label: "depot_request_duration_seconds", dimensions: [("api", key.api), ("operation", key.operation)])
            bytesReceived = CoreMetrics.Counter(label: "depot_bytes_received_total", dimensions: [("api", key.api)])
            bytesSent = CoreMetrics.Counter(label: "depot_bytes_sent_total", dimensions: [("api", key.api)])
        }
    }

    private static let table = Mutex<[Key: Handles]>([:])
    private static let errorTable = Mutex<[String: [String: CoreMetrics.Counter]]>([:])

    static func handles(api: String, operation: String, statusClass: Int) -> Handles {
        let key = Key(api: api, operation: operation, statusClass: statusClass)
        if let found = table.withLock({ $0[key] }) { return found }
        // Made outside the lock (the factory takes its own); a racing twin is the same series.
        let made = Handles(key)
        return table.withLock { table in
            if let found = table[key] { return found }
            table[key] = made
            return made
        }
    }

    static func errors(api: String, code: String) -> CoreMetrics.Counter {
        if let found = errorTable.withLock({ $0[api]?[code] }) { return found }
        let made = CoreMetrics.Counter(label: "depot_request_errors_total", dimensions: [("api", api), ("code", code)])
        errorTable.withLock { $0[api, default: [:]][code] = made }
        return made
    }
}
