import Foundation

/// The tier table of `depot status`: per tier its backlog, how long the oldest task has waited
/// (since it was first queued: a failing tier's keeps growing), rate, circuit breaker and state,
/// and under a tier with one, its last error with when it happened.
func tierStatusLines(_ tiers: [[String: Any]]) -> [String] {
    var lines = [
        pad("TIER", 16) + pad("TYPE", 11) + pad("BACKLOG", 9) + pad("OLDEST PENDING", 16) + pad("RATE (1 MIN)", 14)
            + pad("BREAKER", 11) + "STATE"
    ]
    for tier in tiers {
        let rate = (tier["bytesPerSecond"] as? Double) ?? 0
        var state = "ok"
        if tier["failing"] as? Bool == true {
            state = "FAILING for \(duration(tier["failingForSeconds"] as? Int ?? 0))"
        } else if let since = tier["failingForSeconds"] as? Int {
            state = "failing for \(duration(since)) (alert after \(duration(tier["failingAfterSeconds"] as? Int ?? 0)))"
        }
        var breaker = "\(tier["breaker"] ?? "closed")"
        if let next = tier["nextProbeInSeconds"] as? Int { breaker += " (probe in \(duration(next)))" }
        lines.append(
            pad("\(tier["name"] ?? "")", 16) + pad("\(tier["type"] ?? "")", 11) + pad("\(tier["backlog"] ?? 0)", 9)
                + pad(duration(tier["oldestPendingAgeSeconds"] as? Int ?? 0), 16)
                + pad(String(format: "%.1f MB/s", rate / 1e6), 14) + pad(breaker, 11) + state)
        if let error = tier["lastError"] as? [String: Any] {
            let age = duration(error["ageSeconds"] as? Int ?? 0)
            lines.append("  last error \(age) ago (\(error["time"] ?? "")): \(error["message"] ?? "")")
        }
    }
    return lines
}

/// `75` → `1m15s`; `0` → `0s`.
private func duration(_ seconds: Int) -> String {
    let (hours, minutes, rest) = (seconds / 3600, seconds % 3600 / 60, seconds % 60)
    if hours > 0 { return "\(hours)h\(minutes)m" }
    if minutes > 0 { return "\(minutes)m\(rest)s" }
    return "\(rest)s"
}
