import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore

/// GetBucketAcl, PutBucketAcl, GetObjectAcl, PutObjectAcl, the ownership controls, and the ACL
/// and Object Ownership a CreateBucket asks for.
extension S3Service {
    /// An account's display name for an ACL (its access key when no account has that key now).
    func aclDisplayName(_ accessKey: String) -> String { accounts.account(accessKey: accessKey)?.name ?? accessKey }

    /// GetBucketAcl / GetObjectAcl: the owner and the grants its canned ACL implies, exactly as
    /// AWS lists them; with ACLs disabled (BucketOwnerEnforced) only the owner's grant.
    func getAcl(_ c: S3Context, bucket: String, key: String?) throws -> Response {
        guard let bucketRecord = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        let enabled = Self.ownership(of: bucketRecord).aclsEnabled
        let owner: String
        let grants: [ACLGrant]
        var versionId: String?
        if let key {
            let object = try readableVersion(c, bucket: bucket, key: key)
            owner = Self.objectOwner(object, bucket: bucketRecord)
            let acl = enabled ? Self.objectACL(of: object) : .private
            grants = acl.grants(owner: owner, bucketOwner: bucketRecord.owner)
            versionId = object.versionId
        } else {
            owner = bucketRecord.owner
            grants = (enabled ? Self.bucketACL(of: bucketRecord) : .private).grants(owner: owner, bucketOwner: owner)
        }
        let xml = ACLGrants.policyDocument(
            owner: (owner, aclDisplayName(owner)), grants: grants, displayName: aclDisplayName)
        var response = xmlResponse(xml)
        if let versionId { response.headers[.init("x-amz-version-id")!] = versionId }
        return response
    }

    /// PutBucketAcl / PutObjectAcl: a canned ACL (`x-amz-acl`), grant headers or an
    /// AccessControlPolicy body that says what a canned ACL says; checked against Object
    /// Ownership and the public access block, then kept (bucket document, or the object's record).
    func putAcl(_ c: S3Context, bucket: String, key: String?, body: RequestBody) async throws -> Response {
        let r = c.request
        let operation = key == nil ? "PutBucketAcl" : "PutObjectAcl"
        guard let bucketRecord = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        var object: ObjectRecord?
        if let key { object = try readableVersion(c, bucket: bucket, key: key) }
        let owner = object.map { Self.objectOwner($0, bucket: bucketRecord) } ?? bucketRecord.owner
        let bytes = try await readSmallBody(c, body, limit: 64 << 10)
        let fromHeaders = try Self.requestedACL(
            { r.header($0) }, owner: owner, bucketOwner: bucketRecord.owner, onBucket: key == nil, operation: operation)
        let asked: CannedACL
        switch (fromHeaders, bytes.isEmpty) {
        case (.some, false):
            throw S3Error.invalidRequest(
                "\(operation): give the ACL either in headers (x-amz-acl, x-amz-grant-*) or as an AccessControlPolicy body, not both"
            )
        case (.some(let acl), true):
            asked = acl
        case (.none, false):
            asked = try ACLGrants.cannedACL(
                matching: try ACLGrants.fromPolicy(bytes), owner: owner, bucketOwner: bucketRecord.owner,
                onBucket: key == nil, operation: operation)
        case (.none, true):
            throw S3Error(
                "MissingSecurityHeader", .badRequest,
                "\(operation) needs an ACL: x-amz-acl, x-amz-grant-* headers or an AccessControlPolicy body")
        }
        guard let key else {
            let stored = try Self.admit(asked.onBucket, bucket: bucketRecord)
            try await engine.setBucketDocument(bucket, name: Self.bucketACLDocument, stored.map { Array($0.rawValue.utf8) })
            return emptyResponse(.ok)
        }
        let stored = try Self.admit(asked, bucket: bucketRecord)
        // The same in-place metadata change PutObjectTagging makes (same bytes, same version).
        let record = try await engine.updateObject(bucket: bucket, key: key, version: try requestedVersion(c)) { record in
            record.systemMetadata.removeAll { $0.0 == ObjectRecord.cannedACLKey }
            if let stored { record.systemMetadata.append((ObjectRecord.cannedACLKey, stored.rawValue)) }
        }
        var headers = HTTPFields()
        if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
        return emptyResponse(.ok, headers: headers)
    }

    /// Get/Put/DeleteBucketOwnershipControls. Changing it decides whether ACLs can open the
    /// bucket to others at all, so it needs full control of the bucket, as a bucket policy does.
    func bucketOwnershipControls(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        switch c.request.method {
        case .get:
            guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
            let (ownership, configured) = ObjectOwnership.of(document: record.document(ObjectOwnership.documentName))
            guard configured else {
                throw S3Error(
                    "OwnershipControlsNotFoundError", .notFound, "The bucket ownership controls were not found",
                    details: [("BucketName", bucket)])
            }
            return xmlResponse(ownership.controlsDocument)
        case .put:
            try requireACLFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            let ownership = try ObjectOwnership.parse(controls: try await readSmallBody(c, body, limit: 64 << 10))
            try await engine.updateBucket(bucket) { record, _ in
                if !ownership.aclsEnabled && Self.bucketACL(of: record) != .private {
                    throw Self.aclWithEnforcedOwnership()
                }
                let document = ownership.document
                guard record.document(ObjectOwnership.documentName) != document else { return false }
                record.setDocument(ObjectOwnership.documentName, document)
                return true
            }
            return emptyResponse(.ok)
        case .delete:
            try requireACLFullControl(c, bucket: bucket)
            try requireBucket(bucket)
            try await engine.setBucketDocument(bucket, name: ObjectOwnership.documentName, ObjectOwnership.deletedDocument)
            return emptyResponse(.noContent)
        default:
            throw S3Error.methodNotAllowed()
        }
    }

    static func aclWithEnforcedOwnership() -> S3Error {
        S3Error(
            "InvalidBucketAclWithObjectOwnership", .badRequest,
            "Bucket cannot have ACLs set with ObjectOwnership's BucketOwnerEnforced setting")
    }

    /// Every action on the whole bucket in the `allow` list (read, write, delete, list; `admin`
    /// is not needed) and no Deny of the bucket policy: what setting a policy takes too.
    func requireACLFullControl(_ c: S3Context, bucket: String) throws {
        let full = [Action.read, .write, .delete, .list].allSatisfy { c.account.allows($0, bucket: bucket, key: nil) }
        try requireAccess(
            c, action: c.policyAction, bucket: bucket, key: nil, allowListAllows: full,
            message:
                "Access Denied: changing a bucket's ownership controls needs read, write, delete and list on the whole bucket")
    }

    /// What a CreateBucket asks for (`x-amz-object-ownership`, `x-amz-acl`, `x-amz-grant-*`),
    /// checked before the bucket is made: an ACL other than an owner-only one needs an Object
    /// Ownership that enables ACLs, given in the same request (AWS's default disables them) or,
    /// when the caller re-creates a bucket it owns, the one the bucket has.
    func bucketCreationSettings(_ c: S3Context, bucket: String) throws -> (ownership: ObjectOwnership?, acl: CannedACL?) {
        let r = c.request
        let ownership = try r.header("x-amz-object-ownership").map { try ObjectOwnership.parse(header: $0) }
        let owner = c.account.accessKey
        guard
            let acl = try Self.requestedACL(
                { r.header($0) }, owner: owner, bucketOwner: owner, onBucket: true, operation: "CreateBucket")?.onBucket
        else { return (ownership, nil) }
        let existing = try engine.bucket(bucket)
        // Someone else's bucket: CreateBucket answers BucketAlreadyExists, whatever the ACL.
        if let existing, existing.owner != owner { return (ownership, acl) }
        let effective = ownership ?? existing.map(Self.ownership(of:)) ?? .bucketOwnerEnforced
        if !effective.aclsEnabled && !acl.isOwnerOnly { throw Self.aclWithEnforcedOwnership() }
        return (ownership, acl)
    }

    /// Stores what `bucketCreationSettings` admitted, once the bucket exists. Re-creating your
    /// own bucket (us-east-1) resets its ACL, as AWS does.
    func applyBucketCreationSettings(_ settings: (ownership: ObjectOwnership?, acl: CannedACL?), bucket: String)
        async throws
    {
        try await engine.updateBucket(bucket) { record, _ in
            let before = record
            if let ownership = settings.ownership { record.setDocument(ObjectOwnership.documentName, ownership.document) }
            let acl = Self.ownership(of: record).aclsEnabled ? settings.acl : nil
            if let acl, acl.isPublic, Self.publicACLFlags(of: record).block {
                throw S3Error.accessDenied(
                    "The bucket's public access block (BlockPublicAcls) refuses the public ACL '\(acl.rawValue)'")
            }
            record.setDocument(Self.bucketACLDocument, acl.flatMap { $0 == .private ? nil : Array($0.rawValue.utf8) })
            return record != before
        }
    }
}
