import CoreMetrics
import DepotS3
import Foundation
import HTTPTypes
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
        return buffer
    }
}

/// Per request: its count and latency by API, operation and status class, and bytes in and out.
struct RequestMetrics {
    let api: String
    let operation: String
    let started = ContinuousClock.now

    /// Names the API and operation of a request, as Prometheus labels (bounded sets: no paths).
    static func classify(method: HTTPRequest.Method, path: String, query: String, headers: HTTPFields) -> (
        api: String, operation: String
    ) {
        if path.hasPrefix("/admin/") {
            let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
            let route = AdminAPI.routes.first { $0.method == method && $0.match(segments) != nil }
            return ("admin", route.map { "\($0.method.rawValue) \($0.pattern)" } ?? "unknown")
        }
        if path == "/api" || path.hasPrefix("/api/") {
            return ("vault", VaultOperation.name(method: method.rawValue, path: path))
        }
        if path.hasPrefix("/health/") || path == "/metrics" || path.hasPrefix("/swagger") || path == "/openapi.json" {
            return ("system", path)
        }
        let target = query.isEmpty ? path : path + "?" + query
        return ("s3", S3Endpoint.classify(method: method, target: target, headers: headers)?.operationName ?? "Unknown")
    }

    var elapsedMilliseconds: Double {
        let elapsed = ContinuousClock.now - started
        return Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
    }

    /// Counts the finished request; `operation` replaces the early classification when the
    /// front door decided more precisely (S3 virtual-host style).
    func finish(status: Int, bytesIn: Int, bytesOut: Int, operation: String? = nil) {
        let operation = operation ?? self.operation
        let statusClass = "\(status / 100)xx"
        let dimensions = [("api", api), ("operation", operation), ("status", statusClass)]
        Counter(label: "depot_requests_total", dimensions: dimensions).increment()
        let elapsed = ContinuousClock.now - started
        let nanoseconds = elapsed.components.seconds * 1_000_000_000 + elapsed.components.attoseconds / 1_000_000_000
        Timer(label: "depot_request_duration_seconds", dimensions: [("api", api), ("operation", operation)])
            .recordNanoseconds(nanoseconds)
        if bytesIn > 0 { Counter(label: "depot_bytes_received_total", dimensions: [("api", api)]).increment(by: bytesIn) }
        if bytesOut > 0 { Counter(label: "depot_bytes_sent_total", dimensions: [("api", api)]).increment(by: bytesOut) }
    }
}

/// The Vault API's operations by path, for metrics.
enum VaultOperation {
    static func name(method: String, path: String) -> String {
        if path.hasPrefix("/api/storage/tus") {
            switch method {
            case "POST": return "TusCreate"
            case "PATCH": return "TusPatch"
            case "HEAD": return "TusHead"
            case "DELETE": return "TusDelete"
            case "OPTIONS": return "TusOptions"
            default: return "Tus"
            }
        }
        switch (method, path) {
        case ("POST", "/api/storage"): return "Upload"
        case ("DELETE", "/api/storage"): return "Delete"
        case ("GET", "/api/storage"), ("POST", "/api/storage/bulk"): return "SignedURLs"
        case ("GET", "/api/storage/signed"): return "SignedDownload"
        case ("GET", "/api/storage/blob"), ("POST", "/api/storage/blob"): return "Blob"
        case ("POST", "/api/storage/forward/media"): return "Forward"
        case (_, "/api/ping"), (_, "/api/health"), (_, "/api/health/"): return "Ping"
        case (_, "/api/devices/heartbeat"): return "Heartbeat"
        case (_, "/api/devices"): return "Devices"
        default: return "Other"
        }
    }
}
