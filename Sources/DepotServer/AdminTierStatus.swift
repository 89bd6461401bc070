import DepotConfig
import DepotEngine
import DepotTiering
import Foundation

/// Each tier as `depot status`, `GET /admin/v1/status` and `GET /admin/v1/replication` show it:
/// what waits for it (backlog, and the age of the oldest task since it was first queued, so a
/// tier that keeps failing shows its age growing), how fast it goes, its circuit breaker, its
/// last error and whether it is failing (past its `failingAfter` without a success).
extension AdminAPI {
    func tierStatus() throws -> [[String: Any]] {
        let backlogs = try engine.tierBacklogs()
        let now = Engine.now()
        return configuration.tiers.map { tier in
            Self.describeStatus(
                tier, backlog: backlogs[tier.name] ?? TierBacklog(), status: tiering.status(tier: tier.name), now: now,
                bytesPerSecond: tiering.bytesPerSecond(tier: tier.name), bytesReplicated: tiering.bytesReplicated(tier: tier.name)
            )
        }
    }

    static func describeStatus(
        _ tier: TierSettings, backlog: TierBacklog, status: TierStatus, now: Int64, bytesPerSecond: Double,
        bytesReplicated: UInt64
    ) -> [String: Any] {
        var out: [String: Any] = [
            "name": tier.name, "type": tier.kind.rawValue, "backlog": backlog.count,
            "oldestPendingAgeSeconds": Int(backlog.oldestPendingSeconds(now: now)),
            "bytesPerSecond": bytesPerSecond, "bytesReplicated": bytesReplicated,
            "breaker": status.breaker.rawValue, "consecutiveFailures": status.consecutiveFailures,
            "failing": status.health.failing, "failingAfterSeconds": tier.failingAfter,
        ]
        if let next = status.nextProbeAt { out["nextProbeInSeconds"] = max(0, next - now) / 1000 }
        if let since = status.health.failingSince { out["failingForSeconds"] = max(0, now - since) / 1000 }
        if let message = status.health.lastError, let at = status.health.lastErrorAt {
            out["lastError"] =
                ["message": message, "time": timestamp(at), "ageSeconds": max(0, now - at) / 1000] as [String: Any]
        }
        if let at = status.health.lastSuccessAt { out["lastSuccess"] = timestamp(at) }
        return out
    }

    static func timestamp(_ milliseconds: Int64) -> String {
        ISO8601DateFormatter.string(
            from: Date(timeIntervalSince1970: Double(milliseconds) / 1000), timeZone: .gmt,
            formatOptions: [.withInternetDateTime])
    }
}
