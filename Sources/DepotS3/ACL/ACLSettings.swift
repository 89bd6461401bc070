import DepotEngine
import HTTPTypes

/// Where a bucket's and an object's ACLs are kept, and the one check every request that sets an
/// ACL passes (CreateBucket, PutObject, CopyObject, CreateMultipartUpload, a POST form,
/// PutBucketAcl, PutObjectAcl): Object Ownership first, then the public access block.
///
/// A bucket keeps its canned ACL as the bucket document "acl" (its name; none for `private`); an
/// object keeps it as the system metadata pair `x-depot-acl` (none for `private`), which is
/// logged and rebuilt with the object's record and never sent as a header (InternalMetadata.swift).
extension S3Service {
    static let bucketACLDocument = "acl"

    /// The bucket's canned ACL as stored (`private` when none is).
    static func bucketACL(of record: BucketRecord) -> CannedACL {
        record.document(bucketACLDocument).flatMap { CannedACL(rawValue: String(decoding: $0, as: UTF8.self)) } ?? .private
    }

    /// The object's (version's) canned ACL as stored.
    static func objectACL(of record: ObjectRecord) -> CannedACL {
        record.cannedACLName.flatMap(CannedACL.init(rawValue:)) ?? .private
    }

    static func ownership(of record: BucketRecord) -> ObjectOwnership {
        ObjectOwnership.of(document: record.document(ObjectOwnership.documentName)).ownership
    }

    /// Who owns an object as S3 shows it: with BucketOwnerEnforced the bucket owner owns every
    /// object; with BucketOwnerPreferred, those written with `bucket-owner-full-control`. (Depot
    /// decides this when the ACL is read, from the bucket's current setting.)
    static func objectOwner(_ object: ObjectRecord, bucket: BucketRecord) -> String {
        // An anonymous upload (a public-read-write bucket, a public policy) has no account: the bucket owner's.
        if object.owner.isEmpty { return bucket.owner }
        switch ownership(of: bucket) {
        case .bucketOwnerEnforced: return bucket.owner
        case .bucketOwnerPreferred: return objectACL(of: object) == .bucketOwnerFullControl ? bucket.owner : object.owner
        case .objectWriter: return object.owner
        }
    }

    /// The public access block's ACL flags (its document is parsed by Policy/PublicAccessBlock.swift).
    static func publicACLFlags(of record: BucketRecord) -> (block: Bool, ignore: Bool) {
        guard let bytes = record.document(PublicAccessBlock.documentName), let block = try? PublicAccessBlock(xml: bytes)
        else { return (false, false) }
        return (block.blockPublicAcls, block.ignorePublicAcls)
    }

    /// The ACL a request asks for through `x-amz-acl` or `x-amz-grant-*` (header names and
    /// values through `value`), nil when it asks for none. Grants are mapped back to the
    /// canned ACL that says exactly them, or refused with 501.
    static func requestedACL(
        _ value: (String) -> String?, owner: String, bucketOwner: String, onBucket: Bool, operation: String
    ) throws -> CannedACL? {
        let canned = value("x-amz-acl")
        let grants = try ACLGrants.fromHeaders(value)
        if canned != nil && grants != nil {
            throw S3Error.invalidRequest("Specifying both Canned ACLs and Header Grants is not allowed")
        }
        if let canned { return try CannedACL.parse(canned) }
        guard let grants else { return nil }
        return try ACLGrants.cannedACL(
            matching: grants, owner: owner, bucketOwner: bucketOwner, onBucket: onBucket, operation: operation)
    }

    /// Refuses an ACL the bucket does not take: any but an owner-only one while ACLs are disabled
    /// (400 AccessControlListNotSupported, as AWS), a public one under BlockPublicAcls (403).
    /// Returns what to store: nil for the owner-only ACLs of a bucket with ACLs disabled and
    /// for `private`, which are the state without a stored ACL.
    static func admit(_ acl: CannedACL, bucket record: BucketRecord) throws -> CannedACL? {
        let setting = ownership(of: record)
        guard setting.aclsEnabled || acl.isOwnerOnly else {
            throw S3Error(
                "AccessControlListNotSupported", .badRequest,
                "The bucket does not allow ACLs: its Object Ownership is BucketOwnerEnforced (the canned ACL '\(acl.rawValue)' was asked for)"
            )
        }
        if acl.isPublic && publicACLFlags(of: record).block {
            throw S3Error.accessDenied(
                "The bucket's public access block (BlockPublicAcls) refuses the public ACL '\(acl.rawValue)'")
        }
        return setting.aclsEnabled && acl != .private ? acl : nil
    }

    /// The metadata pair a new object (PUT, copy, multipart, POST form) gets from the ACL its
    /// request asks for, after the bucket has admitted it; none for `private`.
    func requestedObjectACLPairs(_ value: (String) -> String?, owner: String, bucket: String, operation: String) throws
        -> [(String, String)]
    {
        guard value("x-amz-acl") != nil || ACLGrants.headers.contains(where: { value($0.name) != nil }) else { return [] }
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard
            let acl = try Self.requestedACL(
                value, owner: owner, bucketOwner: record.owner, onBucket: false, operation: operation),
            let stored = try Self.admit(acl, bucket: record)
        else { return [] }
        return [(ObjectRecord.cannedACLKey, stored.rawValue)]
    }

    /// An object's metadata from a PUT, copy or CreateMultipartUpload request, with its ACL.
    func requestObjectMetadata(_ c: S3Context, bucket: String) throws -> ObjectMetadata {
        var metadata = try objectMetadata(from: c.request, owner: c.account.accessKey)
        metadata.systemMetadata += try requestedObjectACLPairs(
            { c.request.header($0) }, owner: c.account.accessKey, bucket: bucket,
            operation: c.endpoint.operationName)
        // The class asked for (StorageClass/StorageClassRequest.swift); a copy's comes from its own request.
        metadata.systemMetadata += try storageClassPairs(c.request.header(Self.storageClassHeader))
        return metadata
    }

    /// The inputs of the ACL decision (ACLAccess) for a request on `bucket`, and `object` when it
    /// reads one.
    static func aclInputs(bucket record: BucketRecord, object: ObjectRecord?) -> ACLAccess.Inputs {
        let flags = publicACLFlags(of: record)
        return ACLAccess.Inputs(
            bucketACL: bucketACL(of: record), objectACL: object.map(objectACL(of:)),
            aclsEnabled: ownership(of: record).aclsEnabled, ignorePublicAcls: flags.ignore)
    }
}

extension BucketExposure {
    /// What the bucket's ACLs open to everyone (`depot status`, the admin API): its own ACL's
    /// group grants, and whether its objects may carry public ACLs (ACLs enabled and not ignored).
    static func aclReasons(record: BucketRecord) -> [String] {
        let ownership = S3Service.ownership(of: record)
        guard ownership.aclsEnabled, !S3Service.publicACLFlags(of: record).ignore else { return [] }
        var reasons: [String] = []
        let acl = S3Service.bucketACL(of: record)
        if acl.isPublic {
            let grants = acl.grants(owner: record.owner, bucketOwner: record.owner).compactMap { grant -> String? in
                guard case .group(let group) = grant.grantee else { return nil }
                return "\(grant.permission.rawValue) to \(group == .allUsers ? "everyone" : "every account")"
            }
            reasons.append("bucket ACL \(acl.rawValue) grants \(grants.joined(separator: ", "))")
        }
        reasons.append("ACLs are enabled (Object Ownership \(ownership.rawValue)): objects may carry public-read ACLs")
        return reasons
    }
}
