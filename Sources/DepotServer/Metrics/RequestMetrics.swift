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
        let statusClass = "\(status / 100)xx"
        let dimensions = [("api", api), ("operation", operation), ("status", statusClass)]
        Counter(label: "depot_requests_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        Timer(label: "depot_request_duration_seconds", dimensions: [("api", api), ("operation", operation)])
            .recordNanoseconds(nanoseconds)
        // The code is the server's own choice from a fixed set (S3, Vault and admin codes), never client text.
        if status >= 400 {
            Counter(label: "depot_request_errors_total", dimensions: [("api", api), ("code", errorCode ?? "HTTP\(status)")])
                .increment()
        }
        if bytesIn > 0 { Counter(label: "depot_bytes_received_total", dimensions: [("api", api)]).increment(by: bytesIn) }
        if bytesOut > 0 { Counter(label: "depot_bytes_sent_total", dimensions: [("api", api)]).increment(by: bytesOut) }
    }
}
