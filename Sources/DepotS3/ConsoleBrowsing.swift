/// Where the web console may start browsing a bucket for an account that reaches it through the
/// bucket's policy rather than its own grants. This only proposes prefixes; whether the account
/// may list under one is still decided by THE ACCESS RULE (consoleAllows), so a proposal the
/// policy does not grant this account is dropped by the caller.
extension S3Service {
    /// The most prefixes one bucket's policy proposes (a policy is at most 20 KB anyway).
    static let consoleProposedPrefixLimit = 64

    /// "" (the whole bucket) and every prefix an Allow statement of the bucket's policy names in
    /// an `s3:prefix` StringEquals/StringLike condition (cut at its first wildcard), in policy
    /// order; only "" when the bucket has no readable policy.
    public func consoleListPrefixProposals(bucket: String) -> [String] {
        var proposals = [""]
        guard let policy = (try? bucketAccess(bucket))?.policy else { return proposals }
        for statement in policy.statements where statement.effect == .allow {
            for condition in statement.conditions
            where condition.key == "s3:prefix" && [.stringEquals, .stringLike].contains(condition.op) {
                for value in condition.values {
                    let prefix =
                        condition.op == .stringLike ? String(value.prefix { $0 != "*" && $0 != "?" }) : value
                    guard !proposals.contains(prefix) else { continue }
                    proposals.append(prefix)
                    if proposals.count >= Self.consoleProposedPrefixLimit { return proposals }
                }
            }
        }
        return proposals
    }
}
