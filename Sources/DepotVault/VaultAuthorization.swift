import DepotConfig
import HTTPTypes

/// Authorization on the Vault API: the same question the S3 door asks (DepotConfig's
/// `Account.allows`, DESIGN "Accounts and access"), on the final bucket and key — after a fixed
/// directory has forced the key and the provider has chosen the bucket. The Vault settings
/// (`vault.directory`, providers) only say where an agent's recording goes; what the account may
/// do there is its `allow` rules, whichever door it uses.
///
/// A bucket policy's explicit Deny refuses a Vault request too (`policyDenies`, the S3 door's
/// evaluator, wired by DepotServer), asked with the S3 action the Vault operation carries out.
/// A policy Allow, an ACL or the public access block never admits anyone here: Vault accounts are
/// per camera and the operator's `allow` list is the whole of what one may do; a bucket setting
/// written through the S3 API can only fence it in. Anonymous requests never reach these checks.
extension VaultService {
    /// The S3 action (a bucket policy's `Action`) that a Vault operation needing `action` carries out.
    static func policyAction(_ action: Action) -> String {
        switch action {
        case .read: "s3:GetObject"
        case .write: "s3:PutObject"
        case .delete: "s3:DeleteObject"
        case .list: "s3:ListBucket"
        case .admin: "s3:*"  // never asked by a Vault operation
        }
    }

    /// Whether `account` may do `action` on `key` in `bucket`: its `allow` list allows it and the
    /// bucket's policy does not explicitly deny it.
    func permits(_ account: Account, _ action: Action, bucket: String, key: String) throws -> Bool {
        try account.allows(action, bucket: bucket, key: key) && !policyDenied(account, action, bucket: bucket, key: key)
    }

    /// Whether the bucket's policy explicitly denies `account` the S3 action of `action` (on the
    /// bucket itself for `list`, else on the key).
    private func policyDenied(_ account: Account, _ action: Action, bucket: String, key: String) throws -> Bool {
        try policyDenies(account, Self.policyAction(action), bucket, action == .list ? nil : key)
    }

    /// The S3 action of a request on an open tus upload beyond the upload's own `s3:PutObject`:
    /// HEAD reads its parts, DELETE aborts it (as ListParts and AbortMultipartUpload do on S3).
    static func tusPolicyAction(_ method: HTTPRequest.Method) -> String? {
        switch method {
        case .head: "s3:ListMultipartUploadParts"
        case .delete: "s3:AbortMultipartUpload"
        default: nil
        }
    }

    /// Throws Vault's JSON 403 unless `account` may go on with its tus upload of `key`: every
    /// request on the upload is part of writing it (the account's `write` grant, and no Deny of
    /// `s3:PutObject`), and HEAD and DELETE are refused as well by a Deny of the S3 action they
    /// carry out (`tusPolicyAction`).
    func authorizeTusRequest(_ method: HTTPRequest.Method, by account: Account, bucket: String, key: String) throws {
        try authorize(account, .write, bucket: bucket, key: key)
        if let action = Self.tusPolicyAction(method), try policyDenies(account, action, bucket, key) {
            throw VaultError(
                .forbidden, "the policy of bucket \(bucket) denies the account \(account.name) \(action) on \(key)",
                code: "AccessDenied")
        }
    }

    /// Throws Vault's JSON 403 unless `account` may do `action` on `key` in `bucket`.
    func authorize(_ account: Account, _ action: Action, bucket: String, key: String) throws {
        guard account.allows(action, bucket: bucket, key: key) else {
            throw VaultError(
                .forbidden, "the account \(account.name) may not \(action.rawValue) \(key) in \(bucket)", code: "AccessDenied")
        }
        if try policyDenied(account, action, bucket: bucket, key: key) {
            throw VaultError(
                .forbidden,
                "the policy of bucket \(bucket) denies the account \(account.name) \(Self.policyAction(action)) on \(key)",
                code: "AccessDenied")
        }
    }
}
