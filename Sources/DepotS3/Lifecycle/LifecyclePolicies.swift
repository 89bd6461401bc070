import DepotConfig
import DepotEngine
import DepotStorage

/// An S3 lifecycle rule as a Depot policy: each enabled rule of a bucket's configuration becomes
/// one policy (origin `s3-lifecycle`), carried out by the retention pass that runs the
/// configuration file's policies, listed by `depot policy list` and tried by `dry-run`.
public enum LifecyclePolicies {
    /// The policy name of a rule: `s3-lifecycle:<bucket>:<rule id>`. The admin API allows no ':' in
    /// the names it creates, so these never collide with an admin's policies.
    public static func policyName(bucket: String, ruleID: String) -> String { "s3-lifecycle:\(bucket):\(ruleID)" }

    /// Whether a policy name is a lifecycle rule's.
    public static func isLifecyclePolicy(_ name: String) -> Bool { name.hasPrefix("s3-lifecycle:") }

    /// The policies of the bucket's stored lifecycle document (enabled rules only).
    public static func policies(bucket: String, document: [UInt8]) throws -> [PolicySettings] {
        try LifecycleConfiguration(xml: document).rules.compactMap { policy(bucket: bucket, rule: $0) }
    }

    /// The policies of every bucket's lifecycle configuration, for the configuration in effect.
    /// A stored document that no longer parses is skipped and reported in `problems`.
    public static func all(engine: Engine) throws -> (policies: [PolicySettings], problems: [String]) {
        var policies: [PolicySettings] = []
        var problems: [String] = []
        for (name, bucket) in try engine.listBuckets() {
            guard let document = bucket.document(LifecycleConfiguration.documentName) else { continue }
            do {
                policies += try Self.policies(bucket: name, document: document)
            } catch {
                problems.append(
                    "bucket \(name): its stored lifecycle configuration does not parse (\(error)); its rules are not applied")
            }
        }
        return (policies, problems)
    }

    static func policy(bucket: String, rule: LifecycleConfiguration.Rule) -> PolicySettings? {
        guard rule.enabled else { return nil }
        var policy = PolicySettings.named(policyName(bucket: bucket, ruleID: rule.id))
        policy.bucket = bucket
        policy.prefix = rule.filter.prefix ?? ""
        for tag in rule.filter.tags { policy.tags[tag.key] = tag.value }
        // S3's bounds are strict, the policy's inclusive.
        if let greater = rule.filter.sizeGreaterThan { policy.minimumSize = Int(clamping: greater + 1) }
        if let less = rule.filter.sizeLessThan { policy.maximumSize = Int(clamping: less - 1) }
        policy.expireAfter = rule.expirationDays.map { $0 * 86400 }
        policy.expireAt = rule.expirationDate
        policy.abortUploadsAfter = rule.abortUploadDays.map { $0 * 86400 }
        policy.expireAtMidnightUTC = true
        return policy
    }

    /// The `x-amz-expiration` value for a current object that an enabled rule of the bucket will
    /// expire: the earliest such expiry and its rule, e.g.
    /// `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="logs"`; nil when none will.
    static func expirationHeader(
        configuration: LifecycleConfiguration, bucket: String, key: String, record: ObjectRecord
    ) -> String? {
        var earliest: (time: Int64, rule: String)?
        for rule in configuration.rules {
            guard let policy = policy(bucket: bucket, rule: rule), policy.matches(bucket: bucket, key: key, record: record),
                let time = policy.expiry(created: record.created)
            else { continue }
            if earliest == nil || time < earliest!.time { earliest = (time, rule.id) }
        }
        guard let earliest else { return nil }
        let id = earliest.rule.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "%22")
        return "expiry-date=\"\(httpDate(seconds: earliest.time / 1000))\", rule-id=\"\(id)\""
    }
}
