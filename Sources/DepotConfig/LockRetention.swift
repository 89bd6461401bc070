/// An S3 Object Lock retention given in the configuration: `{ mode: GOVERNANCE|COMPLIANCE,
/// days: N }` or `{ mode: ..., years: N }`. Used by an account's `vault.retention` (every recording
/// it uploads through the Vault API is locked on arrival); AWS's bounds apply (at most 100 years).
public struct LockRetention: Sendable, Equatable, Codable {
    /// "GOVERNANCE" or "COMPLIANCE", as S3 spells them.
    public var mode: String
    /// Exactly one of days and years is non-zero.
    public var days: Int
    public var years: Int

    public init(mode: String, days: Int = 0, years: Int = 0) {
        self.mode = mode
        self.days = days
        self.years = years
    }

    /// The retain-until time (ms since the epoch) of a version created at `now` (ms). A year is
    /// 365 days, as AWS counts it.
    public func retainUntil(now: Int64) -> Int64 {
        now + Int64(days + years * 365) * 86_400_000
    }

    /// As the admin API shows it.
    public var document: [String: Any] {
        years != 0 ? ["mode": mode, "years": years] : ["mode": mode, "days": days]
    }

    static func parse(_ node: ConfigNode) throws -> LockRetention? {
        guard node.isPresent else { return nil }
        try node.requireMapping()
        let mode = try node["mode"].requiredString()
        guard mode == "GOVERNANCE" || mode == "COMPLIANCE" else {
            throw ConfigError(node.path + ".mode", "must be GOVERNANCE or COMPLIANCE, got \"\(mode)\"")
        }
        let days = try node["days"].int(default: 0)
        let years = try node["years"].int(default: 0)
        guard (days != 0) != (years != 0) else {
            throw ConfigError(node.path, "give exactly one of days and years")
        }
        if days != 0, !(1...36_500).contains(days) {
            throw ConfigError(node.path + ".days", "must be between 1 and 36500, got \(days)")
        }
        if years != 0, !(1...100).contains(years) {
            throw ConfigError(node.path + ".years", "must be between 1 and 100, got \(years)")
        }
        return LockRetention(mode: mode, days: days, years: years)
    }
}
