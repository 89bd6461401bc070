import DepotEngine
import Glibc

/// A bucket policy's explicit Deny, for the doors that keep their own grants (the Vault API): they
/// admit an account by its `allow` list alone, and a Deny in the bucket's policy still refuses it,
/// judged by the same evaluator as the S3 door (`BucketPolicy.evaluate`, THE ACCESS RULE step 1).
/// Allow statements, ACLs and the public access block are not consulted here: they only ever widen
/// access, and these doors do not let a bucket's settings widen it (README "Kerberos Agent").
public struct BucketPolicyDenial: Sendable {
    let engine: Engine
    /// Whether the server serves TLS (`aws:SecureTransport`).
    let secureTransport: Bool

    public init(engine: Engine, secureTransport: Bool) {
        self.engine = engine
        self.secureTransport = secureTransport
    }

    /// What a Deny refuses, for the refusal's message.
    public enum Verdict: Sendable, Equatable {
        case notDenied
        /// A statement of the bucket's policy denies the request.
        case denied
        /// The stored policy no longer parses (written by another version): fail closed, as the S3 door does.
        case policyUnreadable
    }

    /// Whether the policy stored with `bucket` explicitly denies the account (`accessKey`, `name`:
    /// matched against Principal as on the S3 door) the S3 `action` (`s3:PutObject`...) on `key`
    /// (nil: the bucket itself). Conditions see the connection's peer address
    /// (`RequestContext.clientAddress`), the transport, the time and `values` (lower-cased keys,
    /// such as `aws:useragent`). A bucket that does not exist has no policy.
    public func verdict(
        accessKey: String, name: String, action: String, bucket: String, key: String?, values: [String: String] = [:]
    ) throws -> Verdict {
        guard let bytes = try engine.bucket(bucket)?.document(BucketPolicy.documentName) else { return .notDenied }
        guard let policy = ParsedPolicies.policy(bucket: bucket, bytes: bytes) else { return .policyUnreadable }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var facts = PolicyFacts(
            sourceIP: RequestContext.clientAddress, secureTransport: secureTransport, now: Int64(now.tv_sec))
        facts.values = values
        let question = PolicyQuestion(
            principal: .account(accessKey: accessKey, name: name), action: action, bucket: bucket, key: key, facts: facts)
        return policy.evaluate(question) == .deny ? .denied : .notDenied
    }
}
