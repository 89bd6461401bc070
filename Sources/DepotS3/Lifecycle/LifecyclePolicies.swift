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

    /// The policies of the bucket's stored lifecycle document (enabled rules only). A rule whose
    /// Transition names a class no tier declares any more (its tier was removed or renamed its
    /// class since) keeps its other actions, without the Transition, as `problems` says.
    public static func policies(
        bucket: String, document: [UInt8], storageClasses: StorageClasses
    ) throws -> (policies: [PolicySettings], problems: [String]) {
        var policies: [PolicySettings] = []
        var problems: [String] = []
        for rule in try LifecycleConfiguration(xml: document).rules {
            if let transition = rule.transition, storageClasses.tierOfClass[transition.storageClass] == nil {
                problems.append(
                    "bucket \(bucket): lifecycle rule \(rule.id) moves objects to storage class \(transition.storageClass), which no tier declares; its Transition is not carried out"
                )
                // Its expiry and upload aborts still apply: dropping them would keep data for good.
                guard
                    rule.expirationDays != nil || rule.expirationDate != nil || rule.abortUploadDays != nil
                        || rule.noncurrentDays != nil || rule.expiredObjectDeleteMarker
                else { continue }
            }
            if let policy = policy(bucket: bucket, rule: rule, storageClasses: storageClasses) { policies.append(policy) }
        }
        return (policies, problems)
    }

    /// The policies of every bucket's lifecycle configuration, for the configuration in effect.
    /// A stored document that no longer parses is skipped and reported in `problems`.
    public static func all(
        engine: Engine, storageClasses: StorageClasses
    ) throws -> (policies: [PolicySettings], problems: [String]) {
        try BucketRulePolicies.all(
            engine: engine, document: LifecycleConfiguration.documentName, what: "lifecycle configuration"
        ) { bucket, document in
            try policies(bucket: bucket, document: document, storageClasses: storageClasses)
        }
    }

    static func policy(
        bucket: String, rule: LifecycleConfiguration.Rule, storageClasses: StorageClasses
    ) -> PolicySettings? {
        guard rule.enabled else { return nil }
        var policy = PolicySettings.named(policyName(bucket: bucket, ruleID: rule.id))
        rule.filter.apply(to: &policy, bucket: bucket)
        policy.expireAfter = rule.expirationDays.map { $0 * 86400 }
        policy.expireAt = rule.expirationDate
        policy.abortUploadsAfter = rule.abortUploadDays.map { $0 * 86400 }
        policy.expireAtMidnightUTC = true
        policy.expireNoncurrentAfter = rule.noncurrentDays.map { $0 * 86400 }
        policy.keepNewerNoncurrent = rule.newerNoncurrentVersions
        policy.expireDeleteMarkers = rule.expiredObjectDeleteMarker
        if let transition = rule.transition, let tier = storageClasses.tierOfClass[transition.storageClass] {
            // Moved when due, not copied at every PUT: the retention pass queues the copy of an
            // object that is due and evicts the local bytes once the tier confirmed it
            // (Retention.swift). A transitioned object deleted (or expired) here is deleted
            // from the tier too, as S3 deletes it from its class.
            policy.replicateTo = [tier]
            policy.mode = .onDemand
            policy.propagateDeletes = true
            policy.transitionAfter = transition.days.map { $0 * 86400 }
            policy.transitionAt = transition.date
        }
        return policy
    }

    /// The `x-amz-expiration` value for a current object that an enabled rule of the bucket will
    /// expire: the earliest such expiry and its rule, e.g.
    /// `expiry-date="Fri, 23 Dec 2012 00:00:00 GMT", rule-id="logs"`; nil when none will.
    /// `policies` are the bucket's rules in effect (S3ConfigurationView), so no request reads or
    /// parses the stored XML.
    static func expirationHeader(
        policies: [PolicySettings], bucket: String, key: String, record: ObjectRecord
    ) -> String? {
        var earliest: (time: Int64, rule: String)?
        let namePrefix = policyName(bucket: bucket, ruleID: "")
        for policy in policies {
            guard policy.matches(bucket: bucket, key: key, record: record), let time = policy.expiry(created: record.created)
            else { continue }
            if earliest == nil || time < earliest!.time { earliest = (time, String(policy.name.dropFirst(namePrefix.count))) }
        }
        guard let earliest else { return nil }
        let id = earliest.rule.split(separator: "\"", omittingEmptySubsequences: false).joined(separator: "%22")
        return "expiry-date=\"\(httpDate(seconds: earliest.time / 1000))\", rule-id=\"\(id)\""
    }
}
