import Foundation

/// One measured run: an operation on objects of one size at one concurrency.
struct Workload: Sendable {
    enum Operation: String, Sendable, CaseIterable {
        case put, get, range, head, delete, list
        /// Kerberos Vault: the Agent's legacy POST /api/storage, and tus (create + PATCHes).
        case vaultPost = "vault-post"
        case tus
    }

    var operation: Operation
    var size: Int
    var concurrency: Int
    /// Stop after this many operations, or after `duration`, whichever comes first.
    var count: Int
    var duration: Duration
    var bucket: String
    var prefix: String
    /// Reads work on this many objects that an earlier run wrote under `prefix` (`--existing N`)
    /// instead of writing a small pool first: with the page cache dropped in between, each read
    /// comes from the disk (a cold GET phase reads each once, `--count N`).
    var existing: Int? = nil
}

/// What a run measured.
struct RunResult: Codable {
    var operation: String
    var size: Int
    var concurrency: Int
    var operations: Int
    var errors: Int
    var seconds: Double
    var bytes: Int
    var megabytesPerSecond: Double
    var operationsPerSecond: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    var maxMilliseconds: Double
    var serverPeakRSSBytes: Int
    var firstError: String?
    /// User + system CPU seconds of the server's processes during the timed part (`--cpu-pids`).
    var serverCPUSeconds: Double?

    init(
        workload: Workload, latencies: [Double], errors: Int, seconds: Double, bytes: Int, peakRSS: Int, firstError: String?,
        serverCPUSeconds: Double? = nil
    ) {
        let sorted = latencies.sorted()
        func percentile(_ p: Double) -> Double {
            sorted.isEmpty ? 0 : sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] * 1000
        }
        operation = workload.operation.rawValue
        size = workload.size
        concurrency = workload.concurrency
        operations = latencies.count
        self.errors = errors
        self.seconds = seconds
        self.bytes = bytes
        megabytesPerSecond = Double(bytes) / seconds / 1e6
        operationsPerSecond = Double(latencies.count) / seconds
        p50Milliseconds = percentile(0.5)
        p99Milliseconds = percentile(0.99)
        maxMilliseconds = (sorted.last ?? 0) * 1000
        serverPeakRSSBytes = peakRSS
        self.firstError = firstError
        self.serverCPUSeconds = serverCPUSeconds
    }
}

/// Samples a process's resident set size from /proc while a run goes on.
final class RSSSampler: @unchecked Sendable {
    let pid: Int32?
    private let lock = NSLock()
    private var peak = 0
    private var running = true

    init(pid: Int32?) {
        self.pid = pid
        guard let pid else { return }
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                let rss = Self.rss(pid)
                lock.withLock { peak = max(peak, rss) }
                usleep(50_000)
            }
        }
    }

    func stop() -> Int {
        lock.withLock {
            running = false
            return peak
        }
    }

    static func rss(_ pid: Int32) -> Int {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return 0 }
        for line in text.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return (Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0) * 1024
        }
        return 0
    }
}

/// Sizes as on the command line: 4KiB, 1MiB, 32MiB, 1GiB.
func parseSize(_ text: String) -> Int? {
    let units: [(String, Int)] = [
        ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30),
    ]
    for (suffix, factor) in units where text.hasSuffix(suffix) {
        return Int(text.dropLast(suffix.count)).map { $0 * factor }
    }
    return Int(text)
}
