import Logging
import Synchronization

/// How a tier has been doing, as `depot status`, the admin API and the metrics show it: its last
/// error, since when it has failed without a single success, and whether that has lasted past
/// its `failingAfter` (then it is *failing*: announced once with a warning an alerting system
/// can match, and once more when it recovers, never per attempt).
public struct TierHealth: Sendable, Equatable {
    public var lastError: String?
    /// When the last error happened (ms since the epoch).
    public var lastErrorAt: Int64?
    public var lastSuccessAt: Int64?
    /// The first failure since the last success (ms since the epoch); nil while it succeeds.
    public var failingSince: Int64?
    /// Past `failingAfter` without a success: announced, and `depot_tier_failing` is 1.
    public var failing = false
}

/// A tier's health with its circuit breaker (TieringService.Breaker): `closed` sends copies as
/// usual; after 5 failures in a row it is `open` (nothing is sent until the next probe) and
/// `half-open` while one probe (its oldest task) is under way.
public struct TierStatus: Sendable {
    public enum BreakerState: String, Sendable {
        case closed
        case open
        case halfOpen = "half-open"
    }
    public var health: TierHealth
    public var breaker: BreakerState
    public var consecutiveFailures: Int
    /// When the open breaker sends its next probe (ms since the epoch).
    public var nextProbeAt: Int64?
}

/// Every tier's health, updated by each task's outcome and checked on the dispatch loop.
final class TierHealthBook: Sendable {
    private let entries = Mutex<[String: TierHealth]>([:])
    let logger: Logger

    init(logger: Logger) { self.logger = logger }

    func health(of tier: String) -> TierHealth { entries.withLock { $0[tier] ?? TierHealth() } }

    /// An attempt that failed because of the tier (not a permanent refusal of one object).
    func failed(tier: String, error: String, at now: Int64) {
        entries.withLock { all in
            var health = all[tier] ?? TierHealth()
            health.lastError = String(error.prefix(1000))
            health.lastErrorAt = now
            if health.failingSince == nil { health.failingSince = now }
            all[tier] = health
        }
    }

    /// A copy or delete the tier confirmed: whatever streak of failures it had is over.
    func succeeded(tier: String, at now: Int64) {
        let recovered: TierHealth? = entries.withLock { all in
            var health = all[tier] ?? TierHealth()
            let before = health
            health.lastSuccessAt = now
            health.failingSince = nil
            health.failing = false
            all[tier] = health
            return before.failing ? before : nil
        }
        if let recovered { announceRecovery(tier: tier, was: recovered, now: now, reason: "a copy succeeded") }
    }

    /// Nothing is left to send to the tier (its queue is empty): it is no longer failing.
    func idle(tier: String, at now: Int64) {
        let recovered: TierHealth? = entries.withLock { all in
            guard var health = all[tier], health.failingSince != nil else { return nil }
            let before = health
            health.failingSince = nil
            health.failing = false
            all[tier] = health
            return before.failing ? before : nil
        }
        if let recovered { announceRecovery(tier: tier, was: recovered, now: now, reason: "nothing is left to send") }
    }

    /// Marks the tiers that have failed for longer than their threshold (seconds, per tier) as
    /// failing, logging each once. Cheap: the dispatch loop calls it every round.
    func checkFailing(now: Int64, thresholds: [String: Int]) {
        let entering: [(String, TierHealth)] = entries.withLock { all in
            var out: [(String, TierHealth)] = []
            for (tier, health) in all where !health.failing {
                guard let since = health.failingSince, let threshold = thresholds[tier],
                    now - since >= Int64(threshold) * 1000
                else { continue }
                all[tier]?.failing = true
                out.append((tier, health))
            }
            return out
        }
        for (tier, health) in entering {
            let seconds = (now - (health.failingSince ?? now)) / 1000
            logger.warning(
                "tier \(tier) is failing: no copy has succeeded for \(seconds) s; last error: \(health.lastError ?? "none")",
                metadata: ["alert": "tier_failing", "tier": .string(tier), "failing_seconds": .stringConvertible(seconds)])
        }
    }

    /// Forgets tiers that are no longer configured.
    func keep(only tiers: Set<String>) { entries.withLock { all in all = all.filter { tiers.contains($0.key) } } }

    private func announceRecovery(tier: String, was: TierHealth, now: Int64, reason: String) {
        let seconds = (now - (was.failingSince ?? now)) / 1000
        logger.notice(
            "tier \(tier) recovered after failing for \(seconds) s: \(reason)",
            metadata: ["alert": "tier_recovered", "tier": .string(tier), "failing_seconds": .stringConvertible(seconds)])
    }
}
