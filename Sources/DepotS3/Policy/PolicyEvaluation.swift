import DepotConfig

/// Who a request comes from, as a bucket policy sees it.
public enum PolicyPrincipal: Sendable, Equatable {
    /// An unsigned request: only statements with Principal `*` can be about it.
    case anonymous
    case account(accessKey: String, name: String)
}

/// What a request carries that conditions can test. Listing keys (`s3:prefix`, `s3:delimiter`,
/// `s3:max-keys`) and `s3:x-amz-acl` are present only when the request sends them.
struct PolicyFacts: Sendable {
    var sourceIP: String?
    var secureTransport: Bool
    var now: Int64
    /// Request-specific keys, lower-cased: s3:prefix, s3:delimiter, s3:max-keys, s3:x-amz-acl, aws:referer, aws:useragent.
    var values: [String: String] = [:]

    func value(for key: String) -> String? {
        switch key {
        case "aws:sourceip": sourceIP
        case "aws:securetransport": secureTransport ? "true" : "false"
        case "aws:currenttime": PolicyDate.iso8601(now)
        case "aws:epochtime": String(now)
        default: values[key]
        }
    }
}

/// One question to a bucket policy: may `principal` do `action` on the bucket (or the key in it)?
struct PolicyQuestion: Sendable {
    var principal: PolicyPrincipal
    /// An S3 action name (PolicyActions), e.g. `s3:GetObject`.
    var action: String
    var bucket: String
    var key: String?
    var facts: PolicyFacts

    var resource: String { BucketPolicy.arnPrefix + bucket + (key.map { "/" + $0 } ?? "") }
}

/// A policy's (or an ACL's) answer: an explicit Deny, an Allow, or nothing to say.
public enum AccessVerdict: Sendable, Equatable { case allow, deny, none }

extension BucketPolicy {
    /// Deny if any matching statement denies (an explicit Deny always wins), else Allow if one
    /// allows, else nothing. `ignoringPublicGrants`: Allow statements that are public (see
    /// `Statement.isPublic`) count for nothing (PublicAccessBlock's RestrictPublicBuckets).
    func evaluate(_ question: PolicyQuestion, ignoringPublicGrants: Bool = false) -> AccessVerdict {
        var verdict = AccessVerdict.none
        for statement in statements where statement.matches(question) {
            if statement.effect == .deny { return .deny }
            if ignoringPublicGrants && statement.isPublic { continue }
            verdict = .allow
        }
        return verdict
    }

    /// Whether the policy grants anything to everyone (AWS's "public" policy, the IsPublic of
    /// GetBucketPolicyStatus, and what BlockPublicPolicy refuses).
    var isPublic: Bool { statements.contains { $0.isPublic } }
}

extension BucketPolicy.Statement {
    /// An Allow to `*` that no source-address condition narrows to a fixed range. AWS counts a
    /// grant limited by `IpAddress aws:SourceIp` to ranges no wider than /8 (IPv4) or /32 (IPv6)
    /// as not public; Depot uses the same cut.
    var isPublic: Bool {
        guard effect == .allow, principals == .everyone else { return false }
        let narrowed = conditions.contains { condition in
            condition.op == .ipAddress && condition.key == "aws:sourceip"
                && condition.values.allSatisfy { value in
                    guard let range = IPRange(value) else { return false }
                    return range.prefixLength >= (range.network.count == 4 ? 8 : 32)
                }
        }
        return !narrowed
    }

    func matches(_ q: PolicyQuestion) -> Bool {
        guard principalMatches(q.principal) else { return false }
        let action = q.action.lowercased()
        let actionListed = actions.contains { PolicyWildcard.matches($0, action) }
        guard actionListed != actionsNegated else { return false }
        let resource = q.resource
        let resourceListed = resources.contains { $0 == "*" || PolicyWildcard.matches($0, resource) }
        guard resourceListed != resourcesNegated else { return false }
        return conditions.allSatisfy { $0.holds(for: q.facts.value(for: $0.key)) }
    }

    private func principalMatches(_ principal: PolicyPrincipal) -> Bool {
        switch (principals, principal) {
        case (.everyone, _): return true
        case (.accounts, .anonymous): return false
        case (.accounts(let ids), .account(let accessKey, let name)):
            return ids.contains { Self.principalId($0, names: accessKey, name) }
        }
    }

    /// An access key, `arn:aws:iam::<id>:user/<access key or account name>`, or
    /// `arn:aws:iam::<access key>:root`.
    private static func principalId(_ id: String, names accessKey: String, _ name: String) -> Bool {
        guard id.hasPrefix("arn:aws:iam::") else { return id == accessKey }
        let parts = id.split(separator: ":", maxSplits: 5, omittingEmptySubsequences: false)
        guard parts.count == 6 else { return false }
        if parts[5] == "root" { return parts[4] == accessKey }
        guard parts[5].hasPrefix("user/"), let last = parts[5].split(separator: "/").last else { return false }
        return last == accessKey || last == name
    }
}
