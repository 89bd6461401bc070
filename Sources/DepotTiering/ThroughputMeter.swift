import Synchronization

/// Bytes confirmed per tier: the total since start, and a rate over the last minute kept as 60
/// one-second buckets, so `depot status` and the metrics show what a tier is doing now rather
/// than an average since start.
final class ThroughputMeter: Sendable {
    private struct Tier {
        var total: UInt64 = 0
        var seconds = [Int64](repeating: -1, count: 60)
        var bytes = [UInt64](repeating: 0, count: 60)
    }
    private let tiers = Mutex<[String: Tier]>([:])

    func record(tier: String, bytes: UInt64, at millisecond: Int64) {
        let second = millisecond / 1000
        let slot = Int(second % 60)
        tiers.withLock { all in
            var entry = all[tier] ?? Tier()
            entry.total += bytes
            if entry.seconds[slot] != second {
                entry.seconds[slot] = second
                entry.bytes[slot] = 0
            }
            entry.bytes[slot] += bytes
            all[tier] = entry
        }
    }

    func total(tier: String) -> UInt64 { tiers.withLock { $0[tier]?.total ?? 0 } }

    /// Average over the last 60 seconds.
    func perSecond(tier: String, at millisecond: Int64) -> Double {
        let now = millisecond / 1000
        return tiers.withLock { all in
            guard let entry = all[tier] else { return 0 }
            var sum: UInt64 = 0
            for i in 0..<60 where entry.seconds[i] > now - 60 && entry.seconds[i] <= now { sum += entry.bytes[i] }
            return Double(sum) / 60
        }
    }
}
