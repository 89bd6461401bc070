import DepotConfig
import DepotEngine

/// An S3 replication rule as a Depot policy: each enabled rule of a bucket's configuration
/// becomes one continuous replicate policy (origin `s3-replication`) to the tier its destination
/// names, carried out by the tiering service that runs the configuration file's policies, listed
/// by `depot policy list` and tried by `dry-run`.
///
/// - Every version is replicated (`replicate.versions: all`), as S3 replicates every version to
///   its versioned destination: the tier's plain key holds the current one.
/// - DeleteMarkerReplication Enabled is `replicate.deletes: true`: a delete marker removes the
///   tier's plain key (the versions' own copies stay). As in S3, a DELETE naming a version is
///   never passed on (`propagatesVersionDeletes: false`, whatever DeleteMarkerReplication says).
/// - Priority: where rules to one tier overlap, the higher priority (then the earlier rule)
///   decides, as in S3; a lower rule's policy yields to it for those objects (`yieldsTo`).
public enum ReplicationPolicies {
    /// The policy name of a rule: `s3-replication:<bucket>:<rule id>`. The admin API allows no
    /// ':' in the names it creates, so these never collide with an admin's policies.
    public static func policyName(bucket: String, ruleID: String) -> String { "s3-replication:\(bucket):\(ruleID)" }

    /// Whether a policy name is a replication rule's.
    public static func isReplicationPolicy(_ name: String) -> Bool { name.hasPrefix("s3-replication:") }

    /// The policies of the bucket's stored replication document (enabled rules only), against
    /// the tiers in effect. A rule whose destination names no tier any more (removed or renamed
    /// since) is left out and described in `problems`.
    public static func policies(
        bucket: String, document: [UInt8], tiers: [TierSettings]
    ) throws -> (policies: [PolicySettings], problems: [String]) {
        let configuration = try ReplicationConfiguration(xml: document)
        var tierOf: [String: String] = [:]
        var problems: [String] = []
        for rule in configuration.rules where rule.enabled {
            do {
                tierOf[rule.id] = try ReplicationDestination.tier(named: rule.destination, among: tiers, rule: rule.id)
            } catch {
                problems.append("bucket \(bucket): replication rule \(rule.id) is not applied: \(error)")
            }
        }
        return (policies(bucket: bucket, configuration, tierOf: tierOf), problems)
    }

    /// The policies of every bucket's replication configuration, for the configuration in effect.
    public static func all(engine: Engine, tiers: [TierSettings]) throws -> (
        policies: [PolicySettings], problems: [String]
    ) {
        try BucketRulePolicies.all(
            engine: engine, document: ReplicationConfiguration.documentName, what: "replication configuration"
        ) { bucket, document in
            try policies(bucket: bucket, document: document, tiers: tiers)
        }
    }

    static func policies(bucket: String, _ configuration: ReplicationConfiguration, tierOf: [String: String])
        -> [PolicySettings]
    {
        // Highest priority first; among equals (V1 rules), the document's order.
        let ranked = configuration.rules.enumerated().filter(\.element.enabled).sorted {
            ($0.element.effectivePriority, -$0.offset) > ($1.element.effectivePriority, -$1.offset)
        }.map(\.element)
        var policies: [PolicySettings] = []
        var matchOnly: [String: [PolicySettings]] = [:]
        for rule in ranked {
            guard let tier = tierOf[rule.id] else { continue }
            var policy = PolicySettings.named(policyName(bucket: bucket, ruleID: rule.id))
            rule.filter.apply(to: &policy, bucket: bucket)
            var filterOnly = policy
            filterOnly.yieldsTo = []
            policy.yieldsTo = matchOnly[tier, default: []]
            matchOnly[tier, default: []].append(filterOnly)
            policy.replicateTo = [tier]
            policy.mode = .continuous
            policy.replicateVersions = .all
            policy.propagateDeletes = rule.replicatesDeleteMarkers
            // As S3: a delete marker is replicated, a DELETE naming a version never is.
            policy.propagatesVersionDeletes = false
            policies.append(policy)
        }
        // In the document's order, as `depot policy list` shows them.
        let order = Dictionary(
            uniqueKeysWithValues: configuration.rules.enumerated().map { (policyName(bucket: bucket, ruleID: $1.id), $0) })
        return policies.sorted { order[$0.name, default: 0] < order[$1.name, default: 0] }
    }
}
