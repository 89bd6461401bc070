import Foundation

/// A bucket policy (AWS's access policy language, the subset MinIO supports), parsed and
/// checked against the bucket it is for. Parsing refuses what AWS refuses, each problem named
/// in S3's `MalformedPolicy` message; evaluation is PolicyEvaluation.swift.
public struct BucketPolicy: Sendable, Equatable {
    public enum Effect: String, Sendable {
        case allow = "Allow"
        case deny = "Deny"
    }

    /// Who a statement is about: everyone (`*`, anonymous requests included) or accounts.
    enum Principals: Sendable, Equatable {
        case everyone
        /// Access keys, or IAM ARNs whose last part names an access key or an account name.
        case accounts([String])
    }

    struct Statement: Sendable, Equatable {
        var sid: String?
        var effect: Effect
        var principals: Principals
        /// Action patterns, lower-cased; `actionsNegated` for NotAction.
        var actions: [String]
        var actionsNegated: Bool
        /// Resource ARN patterns; `resourcesNegated` for NotResource.
        var resources: [String]
        var resourcesNegated: Bool
        var conditions: [PolicyCondition]
    }

    var statements: [Statement]

    /// AWS's limit on a bucket policy's size.
    static let maximumBytes = 20 * 1024
    static let versions: Set<String> = ["2012-10-17", "2008-10-17"]

    /// Parses `bytes` as the policy of `bucket`; throws PolicyProblem naming what is wrong.
    init(parsing bytes: [UInt8], bucket: String) throws {
        guard !bytes.isEmpty else { throw PolicyProblem("Policies must be valid JSON and the first byte must be '{'") }
        guard bytes.count <= Self.maximumBytes else {
            throw PolicyProblem("Policy exceeds the maximum allowed document size of \(Self.maximumBytes) bytes")
        }
        let json: PolicyJSON
        do {
            json = try JSONDecoder().decode(PolicyJSON.self, from: Data(bytes))
        } catch {
            throw PolicyProblem("Policies must be valid JSON: the document does not parse")
        }
        guard case .object(let top) = json else {
            throw PolicyProblem("Policies must be valid JSON and the first byte must be '{'")
        }
        for name in top.keys where !["Version", "Id", "Statement"].contains(name) {
            throw PolicyProblem("Unknown field '\(name)' in the policy")
        }
        if let version = top["Version"] {
            guard case .string(let text) = version, Self.versions.contains(text) else {
                throw PolicyProblem("Version must be \"2012-10-17\" or \"2008-10-17\"")
            }
        }
        guard let list = top["Statement"] else { throw PolicyProblem("Missing required field Statement") }
        let items: [PolicyJSON]
        switch list {
        case .object: items = [list]
        case .array(let array): items = array
        default: throw PolicyProblem("Statement must be an object or a list of objects")
        }
        guard !items.isEmpty else { throw PolicyProblem("Statement is an empty list") }
        var sids = Set<String>()
        statements = try items.enumerated().map { index, item in
            let statement = try Self.statement(item, number: index + 1, bucket: bucket)
            // An empty Sid is no id: minio-go (`mc anonymous set`) writes `"Sid": ""` in every statement.
            if let sid = statement.sid, !sid.isEmpty, !sids.insert(sid).inserted {
                throw PolicyProblem("Statement IDs (SID) in a single policy must be unique: '\(sid)'")
            }
            return statement
        }
    }

    private static let statementFields: Set<String> = [
        "Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition",
    ]

    private static func statement(_ json: PolicyJSON, number: Int, bucket: String) throws -> Statement {
        guard case .object(let fields) = json else { throw PolicyProblem("Statement \(number) is not an object") }
        let label = "Statement \(number)"
        for name in fields.keys.sorted() where !statementFields.contains(name) {
            throw PolicyProblem("\(label): unknown field '\(name)'")
        }
        var sid: String?
        if let value = fields["Sid"] {
            guard case .string(let text) = value else { throw PolicyProblem("\(label): Sid must be a string") }
            sid = text
        }
        guard case .string(let effectText)? = fields["Effect"] else {
            throw PolicyProblem("\(label): missing required field Effect")
        }
        guard let effect = Effect(rawValue: effectText) else {
            throw PolicyProblem("\(label): invalid effect '\(effectText)' (Allow or Deny)")
        }
        if fields["NotPrincipal"] != nil { throw PolicyProblem("\(label): NotPrincipal is not supported") }
        guard let principalJSON = fields["Principal"] else {
            throw PolicyProblem("\(label): missing required field Principal (a bucket policy names who it is about)")
        }
        let principals = try Self.principals(principalJSON, label: label)
        let (actions, actionsNegated) = try Self.pair(fields, "Action", "NotAction", label: label)
        let (resources, resourcesNegated) = try Self.pair(fields, "Resource", "NotResource", label: label)
        let actionPatterns = try actions.map { try Self.checkedAction($0, label: label) }
        for resource in resources { try Self.checkResource(resource, bucket: bucket, label: label) }
        if !actionsNegated && !resourcesNegated {
            try Self.checkActionsApply(actionPatterns, to: resources, label: label)
        }
        var conditions: [PolicyCondition] = []
        if let condition = fields["Condition"] {
            conditions = try PolicyCondition.parse(condition, label: label)
        }
        return Statement(
            sid: sid, effect: effect, principals: principals, actions: actionPatterns, actionsNegated: actionsNegated,
            resources: resources, resourcesNegated: resourcesNegated, conditions: conditions)
    }

    /// Exactly one of a field and its Not- form.
    private static func pair(_ fields: [String: PolicyJSON], _ name: String, _ negated: String, label: String) throws -> (
        [String], Bool
    ) {
        switch (fields[name], fields[negated]) {
        case (let value?, nil): return (try value.strings(field: "\(label): \(name)"), false)
        case (nil, let value?): return (try value.strings(field: "\(label): \(negated)"), true)
        case (nil, nil): throw PolicyProblem("\(label): missing required field \(name) (or \(negated))")
        case (_?, _?): throw PolicyProblem("\(label): \(name) and \(negated) cannot both be given")
        }
    }

    private static func principals(_ json: PolicyJSON, label: String) throws -> Principals {
        if case .string("*") = json { return .everyone }
        guard case .object(let map) = json else {
            throw PolicyProblem("\(label): Principal must be \"*\" or {\"AWS\": ...}")
        }
        for name in map.keys where name != "AWS" {
            throw PolicyProblem("\(label): unsupported principal type '\(name)' (only AWS)")
        }
        guard let aws = map["AWS"] else { throw PolicyProblem("\(label): Principal names no AWS principal") }
        let ids = try aws.strings(field: "\(label): Principal AWS")
        if ids.contains("*") { return .everyone }
        for id in ids where id.isEmpty || (id.contains("*") || id.contains("?")) {
            throw PolicyProblem("\(label): invalid principal '\(id)' (\"*\" alone, an access key or an IAM ARN)")
        }
        return .accounts(ids)
    }

    /// An action pattern, lower-cased; it must name (or, with wildcards, match) a known S3 action.
    private static func checkedAction(_ text: String, label: String) throws -> String {
        let pattern = text.lowercased()
        if pattern == "*" || pattern == "s3:*" { return pattern }
        let matchesKnown =
            pattern.contains("*") || pattern.contains("?")
            ? PolicyActions.known.keys.contains { PolicyWildcard.matches(pattern, $0) }
            : PolicyActions.known[pattern] != nil
        guard pattern.hasPrefix("s3:"), matchesKnown else {
            throw PolicyProblem("\(label): invalid action '\(text)' (not an S3 action)")
        }
        return pattern
    }

    static let arnPrefix = "arn:aws:s3:::"

    /// A resource must be an S3 ARN in this bucket (its bucket part, wildcards included, must match it).
    private static func checkResource(_ resource: String, bucket: String, label: String) throws {
        guard resource != "*" else { return }
        guard resource.hasPrefix(arnPrefix) else {
            throw PolicyProblem("\(label): invalid resource '\(resource)' (arn:aws:s3:::\(bucket) or arn:aws:s3:::\(bucket)/…)")
        }
        let path = resource.dropFirst(arnPrefix.count)
        let bucketPart = String(path.prefix { $0 != "/" })
        // A pattern without a slash may still reach keys with a star (`arn:aws:s3:::bucket*`).
        guard PolicyWildcard.matches(bucketPart, bucket) || PolicyWildcard.matches(String(path), bucket) else {
            throw PolicyProblem("\(label): policy has invalid resource '\(resource)': it is not in bucket \(bucket)")
        }
    }

    private static func targets(of resource: String) -> Set<PolicyActions.Target> {
        if resource == "*" { return [.bucket, .object] }
        let path = resource.dropFirst(arnPrefix.count)
        if path.contains("/") { return [.object] }
        return path.contains("*") ? [.bucket, .object] : [.bucket]
    }

    private static func checkActionsApply(_ actions: [String], to resources: [String], label: String) throws {
        let reachable = resources.reduce(into: Set<PolicyActions.Target>()) { $0.formUnion(targets(of: $1)) }
        for action in actions {
            let applies = PolicyActions.known.contains { name, target in
                reachable.contains(target) && PolicyWildcard.matches(action, name)
            }
            guard applies else {
                throw PolicyProblem("\(label): action '\(action)' does not apply to any resource in the statement")
            }
        }
    }
}
