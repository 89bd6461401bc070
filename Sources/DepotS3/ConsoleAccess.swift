import DepotConfig
import DepotEngine
import Glibc

/// What the web console (Sources/DepotConsole) may show or do for a signed-in account, decided by
/// THE ACCESS RULE (Policy/AccessDecision.swift) exactly as the S3 door decides the matching S3
/// request, so the console never shows what the same keys could not do through S3.
public enum ConsoleOperation: Sendable {
    /// ListObjectsV2 of `prefix` (the account's allow list admits listing only under its prefixes).
    case list(prefix: String)
    /// GetObject of `key`.
    case read(key: String)
    /// DeleteObject of `key`.
    case delete(key: String)
    /// PutObjectLegalHold on `key`.
    case setLegalHold(key: String)
    /// PutObjectRetention on `key`.
    case setRetention(key: String)
}

extension S3Service {
    /// Whether `account` may do `operation` on `bucket`, as the S3 door would answer it.
    /// `clientAddress` and `secureTransport` feed the policy conditions `aws:SourceIp` and `aws:SecureTransport`.
    public func consoleAllows(
        _ account: Account, _ operation: ConsoleOperation, bucket: String, clientAddress: String?, secureTransport: Bool
    ) -> Bool {
        let principal = PolicyPrincipal.account(accessKey: account.accessKey, name: account.name)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var facts = PolicyFacts(sourceIP: clientAddress, secureTransport: secureTransport, now: Int64(now.tv_sec))
        let action: String
        let key: String?
        let allowListAllows: Bool
        switch operation {
        case .list(let prefix):
            (action, key, allowListAllows) = ("s3:ListBucket", nil, account.mayList(bucket: bucket, prefix: prefix))
            facts.values["s3:prefix"] = prefix
        case .read(let name):
            (action, key, allowListAllows) = ("s3:GetObject", name, account.allows(.read, bucket: bucket, key: name))
        case .delete(let name):
            (action, key, allowListAllows) = ("s3:DeleteObject", name, account.allows(.delete, bucket: bucket, key: name))
        case .setLegalHold(let name):
            // The S3 door's allow-list check for both is `write` (S3Endpoint.requiredAction).
            (action, key, allowListAllows) = ("s3:PutObjectLegalHold", name, account.allows(.write, bucket: bucket, key: name))
        case .setRetention(let name):
            (action, key, allowListAllows) = ("s3:PutObjectRetention", name, account.allows(.write, bucket: bucket, key: name))
        }
        guard let access = try? bucketAccess(bucket) else { return false }
        let request = AccessRequest(
            principal: principal, isAdmin: account.allows(.admin, bucket: "*"), allowListAllows: allowListAllows,
            question: PolicyQuestion(principal: principal, action: action, bucket: bucket, key: key, facts: facts))
        return decideAccess(request, access: access)
    }
}

extension S3Service {
    /// Whether `account` may lift or shorten a GOVERNANCE retention on `key` (Depot's
    /// s3:BypassGovernanceRetention is the `admin` action there): the S3 door's and the console's one rule.
    public static func mayBypassGovernance(_ account: Account, bucket: String, key: String) -> Bool {
        account.allows(.admin, bucket: bucket, key: key)
    }
}
