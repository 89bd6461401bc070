import DepotConfig

/// Which Depot tier a replication rule's `Destination/Bucket` names. Two ARN forms are taken:
///
/// - `arn:aws:s3:::NAME`, as `aws s3api put-bucket-replication` and Terraform write it;
/// - `arn:minio:replication:REGION:ID:NAME`, as `mc replicate add` and MinIO print targets.
///
/// NAME is a tier's name; failing that, the remote bucket (or container) of exactly one tier, so
/// an ARN copied from the cloud console works too. Anything else is refused naming it.
enum ReplicationDestination {
    /// The tier `arn` names among `tiers`.
    static func tier(named arn: String, among tiers: [TierSettings], rule: String) throws -> String {
        guard let name = name(in: arn) else {
            throw S3Error.invalidArgument(
                "Destination.Bucket: '\(arn)' (rule \(rule)) is no bucket ARN; name a tier as arn:aws:s3:::TIER or arn:minio:replication::ID:TIER."
            )
        }
        if tiers.contains(where: { $0.name == name }) { return name }
        let holders = tiers.filter { !$0.bucket.isEmpty && $0.bucket == name }.map(\.name).sorted()
        switch holders.count {
        case 1: return holders[0]
        case 0:
            let known = tiers.map(\.name).sorted().joined(separator: ", ")
            throw S3Error.invalidRequest(
                "Destination bucket must exist: '\(arn)' (rule \(rule)) names no configured tier (tiers: \(known.isEmpty ? "none" : known))."
            )
        default:
            throw S3Error.invalidRequest(
                "Destination.Bucket: '\(arn)' (rule \(rule)) is the bucket of several tiers (\(holders.joined(separator: ", "))); name the tier instead."
            )
        }
    }

    /// NAME in either ARN form; nil when `arn` is neither.
    static func name(in arn: String) -> String? {
        let fields = arn.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard fields.count == 6, fields[0] == "arn", let last = fields.last, !last.isEmpty, !last.contains("/") else {
            return nil
        }
        switch (fields[1], fields[2]) {
        case ("aws", "s3"):
            // A bucket ARN has neither region nor account.
            guard fields[3].isEmpty, fields[4].isEmpty else { return nil }
            return String(last)
        case ("minio", "replication"): return String(last)
        default: return nil
        }
    }

    /// Each rule's tier, by rule ID; refuses an unknown destination, and two rules to one tier
    /// with the same priority (S3 decides between overlapping rules to one destination by it).
    static func resolve(_ configuration: ReplicationConfiguration, tiers: [TierSettings]) throws -> [String: String] {
        var tierOf: [String: String] = [:]
        var ranked: [String: [Int: String]] = [:]
        for rule in configuration.rules {
            let tier = try tier(named: rule.destination, among: tiers, rule: rule.id)
            tierOf[rule.id] = tier
            // V1 rules have no priority; their order in the document decides.
            guard !rule.isV1 else { continue }
            if let other = ranked[tier, default: [:]][rule.effectivePriority] {
                throw S3Error.invalidRequest(
                    "Priority: rules \(other) and \(rule.id) both replicate to tier \(tier) with priority \(rule.effectivePriority); rules to the same destination need different priorities."
                )
            }
            ranked[tier, default: [:]][rule.effectivePriority] = rule.id
        }
        return tierOf
    }
}
