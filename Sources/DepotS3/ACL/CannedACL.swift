/// S3 canned ACLs: the only access control lists Depot keeps. A bucket or an object stores the
/// name of its canned ACL (nothing for `private`); the grants it implies are derived from that
/// name and the owners whenever they are shown (GetBucketAcl, GetObjectAcl) or compared with
/// grants a client sends (ACLGrants.swift maps those back to a canned ACL, or refuses them).
public enum CannedACL: String, Sendable, CaseIterable {
    case `private` = "private"
    case publicRead = "public-read"
    case publicReadWrite = "public-read-write"
    case authenticatedRead = "authenticated-read"
    case bucketOwnerRead = "bucket-owner-read"
    case bucketOwnerFullControl = "bucket-owner-full-control"

    /// AWS's canned ACLs Depot does not carry out (there is no log delivery nor EC2 bundle reader here).
    static let notImplemented: Set<String> = ["log-delivery-write", "aws-exec-read"]

    /// The value of `x-amz-acl` (or a form's `acl` field): a canned ACL Depot keeps, 501 for one
    /// of AWS's that it does not, 400 for a name AWS does not have.
    static func parse(_ value: String) throws -> CannedACL {
        let name = value.trimmedSpaces()
        if let acl = CannedACL(rawValue: name) { return acl }
        if notImplemented.contains(name) {
            throw S3Error.notImplemented("the canned ACL '\(name)' (Depot keeps \(supportedList))")
        }
        throw S3Error.invalidArgument("x-amz-acl: '\(value)' is not a canned ACL (one of \(supportedList))")
    }

    static let supportedList = allCases.map(\.rawValue).joined(separator: ", ")

    /// Whether it grants anything to everyone or to every authenticated account (AWS's "public").
    var isPublic: Bool { self == .publicRead || self == .publicReadWrite || self == .authenticatedRead }

    /// Whether it says no more than "the owner has full control": the only ACLs a bucket with
    /// ACLs disabled (BucketOwnerEnforced) accepts. On an object `bucket-owner-full-control`
    /// is that too, since the bucket owner owns every object there.
    var isOwnerOnly: Bool { self == .private || self == .bucketOwnerFullControl }

    /// The ACL a bucket keeps for this canned ACL: AWS ignores the bucket-owner ones on a bucket.
    var onBucket: CannedACL { self == .bucketOwnerRead || self == .bucketOwnerFullControl ? .private : self }

    /// The grants it implies, in the order AWS lists them. `owner` owns the resource; for an
    /// object `bucketOwner` owns its bucket (a grant to the same account is listed once).
    func grants(owner: String, bucketOwner: String) -> [ACLGrant] {
        var grants = [ACLGrant(.user(owner), .fullControl)]
        switch self {
        case .private: break
        case .publicRead: grants.append(ACLGrant(.group(.allUsers), .read))
        case .publicReadWrite:
            grants.append(ACLGrant(.group(.allUsers), .read))
            grants.append(ACLGrant(.group(.allUsers), .write))
        case .authenticatedRead: grants.append(ACLGrant(.group(.authenticatedUsers), .read))
        case .bucketOwnerRead:
            if bucketOwner != owner { grants.append(ACLGrant(.user(bucketOwner), .read)) }
        case .bucketOwnerFullControl:
            if bucketOwner != owner { grants.append(ACLGrant(.user(bucketOwner), .fullControl)) }
        }
        return grants
    }
}

/// One grant of an access control list: who, and which permission.
public struct ACLGrant: Hashable, Sendable {
    public enum Grantee: Hashable, Sendable {
        /// A canonical user: in Depot, an account's access key.
        case user(String)
        case group(ACLGroup)
        case email(String)
    }

    public var grantee: Grantee
    public var permission: ACLPermission

    public init(_ grantee: Grantee, _ permission: ACLPermission) {
        self.grantee = grantee
        self.permission = permission
    }
}

/// AWS's predefined groups (their grantee URIs).
public enum ACLGroup: String, Sendable, CaseIterable {
    case allUsers = "http://acs.amazonaws.com/groups/global/AllUsers"
    case authenticatedUsers = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
    case logDelivery = "http://acs.amazonaws.com/groups/s3/LogDelivery"
}

public enum ACLPermission: String, Sendable, CaseIterable {
    case read = "READ"
    case write = "WRITE"
    case readACP = "READ_ACP"
    case writeACP = "WRITE_ACP"
    case fullControl = "FULL_CONTROL"
}
