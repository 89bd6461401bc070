/// What canned ACLs let a request do, decided as a pure function of who asks, the policy
/// action asked for (PolicyActions' names, e.g. `s3:GetObject`) and the ACLs in force.
///
/// Depot's rule: an account's `allow` list is the authority for named accounts, so the grants
/// an ACL names for one account (the owner's FULL_CONTROL, the bucket owner's READ of a
/// `bucket-owner-read` object) add nothing; only the grants to AWS's groups widen access:
/// AllUsers (anyone, anonymous requests included) and AuthenticatedUsers (any account with a
/// valid signature, whatever its `allow` list). The permissions map to actions as in AWS's
/// "Mapping of ACL permissions and access policy permissions": READ on an object is
/// GetObject (and HEAD) of it; READ on a bucket lists it; WRITE on a bucket creates,
/// overwrites and deletes its objects. No canned ACL grants a group READ_ACP or WRITE_ACP.
enum ACLAccess {
    /// Who asks.
    enum Principal: Sendable, Equatable {
        case anonymous
        case account(String)
    }

    /// The ACLs that bear on one request. `objectACL` is the ACL of the object (version) a
    /// request reads; nil for bucket-level actions or when there is no such object.
    struct Inputs: Sendable, Equatable {
        var bucketACL: CannedACL = .private
        var objectACL: CannedACL?
        /// False with BucketOwnerEnforced: ACLs are disabled and grant nothing.
        var aclsEnabled = false
        /// The public access block's IgnorePublicAcls: every group grant is public, so none counts.
        var ignorePublicAcls = false
    }

    static let objectReadActions: Set<String> = ["s3:GetObject", "s3:GetObjectVersion"]
    static let bucketReadActions: Set<String> = ["s3:ListBucket", "s3:ListBucketVersions", "s3:ListBucketMultipartUploads"]
    static let bucketWriteActions: Set<String> = ["s3:PutObject", "s3:DeleteObject", "s3:DeleteObjectVersion"]

    /// Whether the ACLs grant `principal` the policy action `action`.
    static func permits(_ principal: Principal, action: String, _ inputs: Inputs) -> Bool {
        guard inputs.aclsEnabled, !inputs.ignorePublicAcls else { return false }
        if objectReadActions.contains(action) {
            guard let objectACL = inputs.objectACL else { return false }
            return groupPermissions(objectACL, for: principal).contains(.read)
        }
        if bucketReadActions.contains(action) { return groupPermissions(inputs.bucketACL, for: principal).contains(.read) }
        if bucketWriteActions.contains(action) {
            return groupPermissions(inputs.bucketACL, for: principal).contains(.write)
        }
        return false
    }

    /// The permissions a canned ACL gives the groups `principal` belongs to.
    static func groupPermissions(_ acl: CannedACL, for principal: Principal) -> Set<ACLPermission> {
        var groups: Set<ACLGroup> = [.allUsers]
        if case .account = principal { groups.insert(.authenticatedUsers) }
        var permissions: Set<ACLPermission> = []
        // The owners' names do not matter here: grants to users add nothing (see above).
        for grant in acl.grants(owner: "", bucketOwner: "") {
            if case .group(let group) = grant.grantee, groups.contains(group) { permissions.insert(grant.permission) }
        }
        return permissions
    }
}

/// The canned-ACL hook of THE ACCESS RULE (Policy/AccessDecision.swift `aclVerdict`): `.allow`
/// when a group grant of the bucket's or the object's ACL admits the request, else `.none`
/// (an ACL never denies). A read is judged by the ACL of the version it reads: the current one,
/// or the one its `versionId` names.
func cannedACLVerdict(_ request: AccessRequest, access: BucketAccess) -> AccessVerdict {
    // Asked on every request: an ACL can only add to what the allow list refuses, and a bucket
    // with ACLs disabled (the default) or ignored answers at once, so no object is read for them.
    guard !request.allowListAllows, let record = access.record, S3Service.ownership(of: record).aclsEnabled,
        !access.block.ignorePublicAcls
    else { return .none }
    var inputs = ACLAccess.Inputs(bucketACL: S3Service.bucketACL(of: record), aclsEnabled: true)
    let action = request.question.action
    if ACLAccess.objectReadActions.contains(action), let key = request.question.key {
        // The version asked for (`versionId`): each version keeps its own ACL.
        let versionId = request.question.facts.values["s3:versionid"]
        if action == "s3:GetObject" || versionId != nil {
            inputs.objectACL = access.object(key, versionId).map(S3Service.objectACL(of:))
        }
    }
    let principal: ACLAccess.Principal =
        switch request.principal {
        case .anonymous: .anonymous
        case .account(let accessKey, _): .account(accessKey)
        }
    return ACLAccess.permits(principal, action: action, inputs) ? .allow : .none
}
