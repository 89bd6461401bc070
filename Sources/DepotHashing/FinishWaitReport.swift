#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// How long chunk ends wait for the hashing worker: with `DEPOT_HASHING_WAIT_REPORT=N` the
/// service writes one line to standard error per N finished SHA-256 streams (chunk addresses):
/// how many waited more than 20 µs, the mean wait over all of them and the longest (time spent
/// running passes while the worker was behind included), and how many passes those threads ran. A measuring
/// aid for benchmarks (Benchmarks/RESULTS-NOTES.md); off by default. Guarded by the service's lock.
struct FinishWaitReport {
    /// Finishes per line; 0 when off.
    let every: Int
    private var finishes = 0
    private var waited = 0
    private var nanoseconds: UInt64 = 0
    private var longest: UInt64 = 0
    /// Passes the finishing threads ran themselves while the worker was behind.
    private var passes = 0

    /// A wait this short is the lock and a check, not a wait for the worker.
    static let waitedAtLeastNanoseconds: UInt64 = 20_000

    init(every: Int) { self.every = max(0, every) }

    static func fromEnvironment() -> FinishWaitReport {
        FinishWaitReport(every: getenv("DEPOT_HASHING_WAIT_REPORT").flatMap { Int(String(cString: $0)) } ?? 0)
    }

    var isOn: Bool { every > 0 }

    static func now() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    /// Counts one finish that waited `nanoseconds`; returns the line to write once `every` are counted.
    mutating func note(waitedNanoseconds wait: UInt64, passesRun: Int) -> String? {
        finishes += 1
        passes += passesRun
        nanoseconds += wait
        longest = max(longest, wait)
        if wait >= Self.waitedAtLeastNanoseconds { waited += 1 }
        guard finishes >= every else { return nil }
        let line =
            "depot hashing: \(finishes) chunk ends, \(waited) waited for the worker, mean wait "
            + "\(nanoseconds / UInt64(finishes) / 1000) us, longest \(longest / 1000) us, "
            + "\(passes) passes run by the waiting threads\n"
        self = FinishWaitReport(every: every)
        return line
    }

    static func emit(_ line: String) {
        var line = line
        line.withUTF8 { bytes in _ = write(2, bytes.baseAddress, bytes.count) }
    }
}
