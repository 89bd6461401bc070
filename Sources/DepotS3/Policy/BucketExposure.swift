import DepotEngine

/// What makes a bucket reachable by anyone, for `depot status` and the admin API's bucket view:
/// an operator must see at a glance that footage is public. Reads the bucket's documents only.
public enum BucketExposure {
    /// One line per setting that makes the bucket public; empty when nothing does.
    public static func reasons(bucket: String, record: BucketRecord) -> [String] {
        var reasons: [String] = []
        let block = record.document(PublicAccessBlock.documentName).flatMap { try? PublicAccessBlock(xml: $0) }
        if let bytes = record.document(BucketPolicy.documentName),
            let policy = ParsedPolicies.policy(bucket: bucket, bytes: bytes), policy.isPublic,
            block?.restrictPublicBuckets != true
        {
            let actions = policy.statements.filter(\.isPublic).flatMap { statement in
                (statement.actionsNegated ? ["everything but " + statement.actions.joined(separator: ", ")] : statement.actions)
            }
            reasons.append("bucket policy grants \(Array(Set(actions)).sorted().joined(separator: ", ")) to everyone")
        }
        reasons += aclReasons(record: record)
        return reasons
    }
}
