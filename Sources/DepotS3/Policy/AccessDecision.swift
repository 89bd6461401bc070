import DepotConfig
import DepotEngine
import Foundation
import Glibc
import HummingbirdCore
import Synchronization

/// THE ACCESS RULE of the S3 door and of browser POST forms (README "Bucket policies and
/// anonymous access"), decided here and nowhere else:
///
/// 1. An explicit Deny in the bucket's policy refuses the request, whoever asks (an account with
///    `admin` excepted only for the policy and public access block operations, so a policy that
///    denies everything can still be read, replaced or removed).
/// 2. Otherwise the request is allowed when the account's `allow` list allows it, OR a policy
///    Allow statement matches its principal, action, resource and conditions, OR the canned-ACL
///    hook (`aclVerdict`) allows it.
/// 3. Anything else is AccessDenied. An anonymous (unsigned) request has no `allow` list, so only
///    a policy statement with Principal `*` (or an ACL) can admit it.
///
/// Why this order: the `allow` list is the operator's configuration and a bucket policy is
/// written through the S3 API by an account that holds the bucket; a policy may share a bucket
/// further or fence it in (a Deny), but nothing written through the S3 API can silently widen
/// what an account's own grants refuse without it being visible in the bucket's policy.
/// PublicAccessBlock's RestrictPublicBuckets makes public Allow statements count for nothing.
/// The Vault API keeps its `allow` list and takes only step 1 from here (PolicyDenial.swift); the
/// admin API keeps its own authorization (`admin`, server-wide, which may remove any policy anyway).
struct AccessRequest: Sendable {
    var principal: PolicyPrincipal
    /// The account holds `admin` (server-wide): exempt from Deny on policy management.
    var isAdmin: Bool
    /// What the account's `allow` list says (false for anonymous requests).
    var allowListAllows: Bool
    var question: PolicyQuestion
}

/// The access settings of one bucket, read once per request from its record.
struct BucketAccess: Sendable {
    /// nil: no policy.
    var policy: BucketPolicy?
    /// The stored policy no longer parses (written by another version): fail closed.
    var policyUnreadable = false
    var block = PublicAccessBlock()
    /// The record itself, for hooks that read other documents (an ACL).
    var record: BucketRecord?
    /// A key's current version, or the version a `versionId` names, for the canned-ACL hook (object ACLs).
    var object: @Sendable (_ key: String, _ versionId: String?) -> ObjectRecord? = { _, _ in nil }

    static let none = BucketAccess()

    /// Whether the bucket is public: its policy grants to everyone and RestrictPublicBuckets does
    /// not cancel that (GetBucketPolicyStatus's IsPublic, `depot status`, the admin API).
    var isPublic: Bool { (policy?.isPublic ?? false) && !block.restrictPublicBuckets }
}

/// The canned-ACL hook: what the bucket's (or object's) ACL says about a request. The ACL work
/// adds its check here (ACL/ACLAccess.swift: group grants of canned ACLs, never a deny). Its `.allow` admits a request the
/// policy does not deny; its `.deny` refuses it.
func aclVerdict(_ request: AccessRequest, access: BucketAccess) -> AccessVerdict {
    cannedACLVerdict(request, access: access)
}

/// Applies THE ACCESS RULE above.
func decideAccess(_ request: AccessRequest, access: BucketAccess) -> Bool {
    let action = request.question.action.lowercased()
    let exempt = request.isAdmin && PolicyActions.managesAccess.contains(action)
    let policyVerdict: AccessVerdict
    if access.policyUnreadable {
        policyVerdict = .deny
    } else if let policy = access.policy {
        policyVerdict = policy.evaluate(request.question, ignoringPublicGrants: access.block.restrictPublicBuckets)
    } else {
        policyVerdict = .none
    }
    if policyVerdict == .deny && !exempt { return false }
    let acl = aclVerdict(request, access: access)
    if acl == .deny && !exempt { return false }
    if request.allowListAllows { return true }
    // Settings that give rights away are granted by the allow list only (BucketPolicyHandlers).
    if PolicyActions.managesAccess.contains(action) { return false }
    return policyVerdict == .allow || acl == .allow
}

/// THE ACCESS RULE's answer when it can be given without the request's policy question: with no
/// policy in the bucket nothing can deny (an ACL never does, `cannedACLVerdict`), so what the
/// allow list allows is allowed. The common case (an account's own bucket, no policy) then skips
/// building the question and its facts (the query and header values conditions could test, the
/// clock, the client address): about 0.5% of a 4 KiB GET's server CPU. nil: ask `decideAccess`.
func allowedWithoutQuestion(allowListAllows: Bool, access: BucketAccess) -> Bool? {
    guard allowListAllows, access.policy == nil, !access.policyUnreadable else { return nil }
    return true
}

/// Parsed policies by bucket and document bytes, so a request pays one comparison, not a JSON
/// parse. Bounded: it is emptied when it holds more than `limit` entries.
enum ParsedPolicies {
    private struct Entry {
        let bytes: [UInt8]
        let policy: BucketPolicy?
    }
    private static let cache = Mutex<[String: Entry]>([:])
    private static let limit = 1024

    static func policy(bucket: String, bytes: [UInt8]) -> BucketPolicy? {
        if let entry = cache.withLock({ $0[bucket] }), entry.bytes == bytes { return entry.policy }
        let policy = try? BucketPolicy(parsing: bytes, bucket: bucket)
        cache.withLock { table in
            if table.count >= limit { table.removeAll() }
            table[bucket] = Entry(bytes: bytes, policy: policy)
        }
        return policy
    }
}

extension Account {
    /// The principal of an unsigned request: no grants, never enabled, so every `allows` is false.
    static let anonymous = Account(name: "anonymous", accessKey: "", secretKey: "", grants: [], enabled: false)
}

extension VerifiedAuth {
    static let anonymous = VerifiedAuth(account: .anonymous, payload: .unsigned, verified: nil)
    var isAnonymous: Bool { account.accessKey.isEmpty }
}

extension S3Context {
    var principal: PolicyPrincipal {
        auth.isAnonymous ? .anonymous : .account(accessKey: account.accessKey, name: account.name)
    }

    /// The policy action of this request's endpoint (PolicyActions, the one table).
    var policyAction: String? {
        PolicyActions.action(for: endpoint, versioned: request.query["versionId"] != nil)
    }
}

extension S3Service {
    /// The bucket's access settings; `.none` for a bucket that does not exist (its requests fail
    /// on their own, with NoSuchBucket or AccessDenied).
    func bucketAccess(_ bucket: String) throws -> BucketAccess {
        guard let record = try engine.bucket(bucket) else { return .none }
        var access = BucketAccess(record: record)
        access.object = { [engine] key, versionId in
            guard let versionId else { return (try? engine.headObject(bucket: bucket, key: key)) ?? nil }
            return VersionSelector(versionId).flatMap { (try? engine.objectVersion(bucket: bucket, key: key, $0)) ?? nil }
        }
        if let bytes = record.document(BucketPolicy.documentName) {
            access.policy = ParsedPolicies.policy(bucket: bucket, bytes: bytes)
            if access.policy == nil {
                access.policyUnreadable = true
                logger.error("bucket \(bucket): its stored policy does not parse; every request it would decide is refused")
            }
        }
        if let bytes = record.document(PublicAccessBlock.documentName), let block = try? PublicAccessBlock(xml: bytes) {
            access.block = block
        }
        return access
    }

    /// The parsed PublicAccessBlock of a bucket (all false when none is set): canned ACLs honour
    /// BlockPublicAcls and IgnorePublicAcls through it.
    func publicAccessBlock(of bucket: String) throws -> PublicAccessBlock {
        try bucketAccess(bucket).block
    }

    /// What conditions can test about this request.
    func policyFacts(_ r: S3Request) -> PolicyFacts {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var facts = PolicyFacts(
            sourceIP: RequestContext.clientAddress, secureTransport: settings.urlScheme == "https", now: Int64(now.tv_sec))
        for (key, parameter) in [
            ("s3:prefix", "prefix"), ("s3:delimiter", "delimiter"), ("s3:max-keys", "max-keys"), ("s3:versionid", "versionId"),
        ] {
            if let value = r.query[parameter] { facts.values[key] = value }
        }
        for (key, header) in [("s3:x-amz-acl", "x-amz-acl"), ("aws:referer", "referer"), ("aws:useragent", "user-agent")] {
            if let value = r.header(header) { facts.values[key] = value }
        }
        return facts
    }

    /// Whether this request may do `action` (a policy action) on the bucket or key; see THE ACCESS RULE.
    func mayAccess(_ c: S3Context, action: String?, bucket: String, key: String?, allowListAllows: Bool) throws -> Bool {
        guard let action else { return allowListAllows }
        let access = try bucket == c.request.bucket ? c.bucketAccess : bucketAccess(bucket)
        if let allowed = allowedWithoutQuestion(allowListAllows: allowListAllows, access: access) { return allowed }
        let request = AccessRequest(
            principal: c.principal, isAdmin: c.account.allows(.admin, bucket: "*"), allowListAllows: allowListAllows,
            question: PolicyQuestion(
                principal: c.principal, action: action, bucket: bucket, key: key, facts: policyFacts(c.request)))
        return decideAccess(request, access: access)
    }

    /// Throws AccessDenied unless THE ACCESS RULE allows the request.
    func requireAccess(
        _ c: S3Context, action: String?, bucket: String, key: String?, allowListAllows: Bool,
        message: String = "Access Denied"
    ) throws {
        guard try mayAccess(c, action: action, bucket: bucket, key: key, allowListAllows: allowListAllows) else {
            throw S3Error.accessDenied(message)
        }
    }
}

extension BucketPolicy {
    /// The bucket document that holds the policy (as the client sent it).
    static let documentName = "policy"
}

extension S3Service {
    /// The policy action that reads a copy's source.
    static func copySourceAction(_ version: VersionSelector?) -> String {
        version == nil ? "s3:GetObject" : "s3:GetObjectVersion"
    }

    /// A browser form upload's access (s3:PutObject on its final key), by THE ACCESS RULE.
    func requireFormAccess(
        principal: PolicyPrincipal, isAdmin: Bool, allowListAllows: Bool, bucket: String, key: String, request: S3Request
    ) throws {
        let question = PolicyQuestion(
            principal: principal, action: "s3:PutObject", bucket: bucket, key: key, facts: policyFacts(request))
        let access = try bucketAccess(bucket)
        guard
            decideAccess(
                AccessRequest(principal: principal, isAdmin: isAdmin, allowListAllows: allowListAllows, question: question),
                access: access)
        else {
            throw S3Error.accessDenied(
                principal == .anonymous
                    ? "Anonymous form uploads are not allowed here: the form needs a signed policy, or the bucket policy must grant s3:PutObject to everyone."
                    : "Access Denied")
        }
    }

    /// A form without a signed policy: anonymous, admitted only where the bucket policy grants
    /// s3:PutObject to everyone. Its key is the form's `key` (with `${filename}`), and it takes
    /// the form's Content-Type and success_action_status, as a signed form does.
    func anonymousForm(fields: [String: String], bucket: String, filename: String, request: S3Request) throws -> (
        key: String, policy: PostPolicy, account: Account
    ) {
        guard let template = fields["key"], !template.isEmpty else {
            throw S3Error.invalidArgument("Bucket POST must contain a field named 'key'.")
        }
        let key = template.replacingOccurrences(of: "${filename}", with: filename)
        try requireFormAccess(
            principal: .anonymous, isAdmin: false, allowListAllows: false, bucket: bucket, key: key, request: request)
        try engine.checkKeyLength(bucket: bucket, key: key)
        var policy = PostPolicy()
        policy.contentType = fields["content-type"]
        if let status = fields["success_action_status"].flatMap(Int.init), [200, 201, 204].contains(status) {
            policy.successStatus = status
        }
        policy.redirect = fields["success_action_redirect"] ?? fields["redirect"]
        return (key, policy, .anonymous)
    }
}

extension S3Service {
    /// Runs an anonymous request's handler; a key (or version) it does not find is answered 403
    /// AccessDenied unless the policy also lets the requester list the bucket, as AWS answers:
    /// a public GetObject grant must not tell anyone which other keys exist.
    func hidingMissingKeys(_ c: S3Context, _ handler: () async throws -> Response) async throws -> Response {
        do {
            return try await handler()
        } catch {
            let code = S3Error.from(error).code
            guard code == "NoSuchKey" || code == "NoSuchVersion", let bucket = c.request.bucket,
                try !mayAccess(c, action: "s3:ListBucket", bucket: bucket, key: nil, allowListAllows: false)
            else { throw error }
            throw S3Error.accessDenied()
        }
    }
}
