import DepotEngine
import Foundation
import Testing

@testable import DepotS3

/// Canned ACLs: the grants each implies (as AWS lists them), explicit grants (headers, an
/// AccessControlPolicy body) mapped back to a canned ACL or refused with 501, Object Ownership's
/// documents, and the pure access decision of ACL group grants.
struct CannedACLTests {
    static let owner = "OWNERKEY"
    static let other = "OTHERKEY"
    static let allUsers = ACLGrant.Grantee.group(.allUsers)
    static let authenticated = ACLGrant.Grantee.group(.authenticatedUsers)

    @Test func grantsOfEachCannedACL() {
        let o = Self.owner
        let full = ACLGrant(.user(o), .fullControl)
        #expect(CannedACL.private.grants(owner: o, bucketOwner: o) == [full])
        #expect(CannedACL.publicRead.grants(owner: o, bucketOwner: o) == [full, ACLGrant(Self.allUsers, .read)])
        #expect(
            CannedACL.publicReadWrite.grants(owner: o, bucketOwner: o) == [
                full, ACLGrant(Self.allUsers, .read), ACLGrant(Self.allUsers, .write),
            ])
        #expect(CannedACL.authenticatedRead.grants(owner: o, bucketOwner: o) == [full, ACLGrant(Self.authenticated, .read)])
        // The bucket-owner ACLs name the bucket owner only when it is another account.
        #expect(CannedACL.bucketOwnerRead.grants(owner: o, bucketOwner: o) == [full])
        #expect(
            CannedACL.bucketOwnerRead.grants(owner: o, bucketOwner: Self.other) == [full, ACLGrant(.user(Self.other), .read)])
        #expect(
            CannedACL.bucketOwnerFullControl.grants(owner: o, bucketOwner: Self.other) == [
                full, ACLGrant(.user(Self.other), .fullControl),
            ])
    }

    @Test func parsingCannedNames() throws {
        for acl in CannedACL.allCases { #expect(try CannedACL.parse(acl.rawValue) == acl) }
        #expect(throws: S3Error.self) { try CannedACL.parse("publik-read") }
        do {
            _ = try CannedACL.parse("log-delivery-write")
            Issue.record("log-delivery-write was accepted")
        } catch let error as S3Error {
            #expect(error.code == "NotImplemented")
            #expect(error.message.contains("log-delivery-write"))
        }
        #expect(CannedACL.bucketOwnerRead.onBucket == .private)
        #expect(CannedACL.publicRead.onBucket == .publicRead)
        #expect(CannedACL.publicRead.isPublic && CannedACL.authenticatedRead.isPublic && !CannedACL.bucketOwnerRead.isPublic)
    }

    @Test func everyCannedACLRoundTripsThroughItsGrants() throws {
        for owners in [(Self.owner, Self.owner), (Self.owner, Self.other)] {
            for acl in CannedACL.allCases {
                let grants = acl.grants(owner: owners.0, bucketOwner: owners.1)
                let mapped = try ACLGrants.cannedACL(
                    matching: grants.reversed() + grants, owner: owners.0, bucketOwner: owners.1, onBucket: false,
                    operation: "PutObjectAcl")
                // With one owner, bucket-owner-read and -full-control say what private says.
                #expect(mapped.grants(owner: owners.0, bucketOwner: owners.1) == grants, "\(acl)")
            }
        }
    }

    @Test func grantHeadersMapBackOrAreRefused() throws {
        let headers = [
            "x-amz-grant-full-control": "id=\"\(Self.owner)\"",
            "x-amz-grant-read": "uri=\"http://acs.amazonaws.com/groups/global/AllUsers\"",
        ]
        let grants = try #require(try ACLGrants.fromHeaders { headers[$0] })
        #expect(
            try ACLGrants.cannedACL(
                matching: grants, owner: Self.owner, bucketOwner: Self.owner, onBucket: true, operation: "PutBucketAcl")
                == .publicRead)
        #expect(try ACLGrants.fromHeaders { _ in nil } == nil)
        // A grant to one other account: no canned ACL says it.
        let toAnother = try #require(
            try ACLGrants.fromHeaders {
                ["x-amz-grant-full-control": "id=\(Self.owner)", "x-amz-grant-read": "id=\(Self.other)"][$0]
            })
        do {
            _ = try ACLGrants.cannedACL(
                matching: toAnother, owner: Self.owner, bucketOwner: Self.owner, onBucket: false, operation: "PutObjectAcl")
            Issue.record("a grant to another account was accepted")
        } catch let error as S3Error {
            #expect(error.code == "NotImplemented" && error.status == .notImplemented)
            #expect(error.message.contains("READ to the user \(Self.other)"))
        }
        // Without the owner's FULL_CONTROL it is not public-read either.
        let onlyPublic = try #require(
            try ACLGrants.fromHeaders { ["x-amz-grant-read": "uri=http://acs.amazonaws.com/groups/global/AllUsers"][$0] })
        #expect(throws: S3Error.self) {
            try ACLGrants.cannedACL(
                matching: onlyPublic, owner: Self.owner, bucketOwner: Self.owner, onBucket: false, operation: "PutObjectAcl")
        }
        #expect(throws: S3Error.self) { try ACLGrants.fromHeaders { $0 == "x-amz-grant-read" ? "someone" : nil } }
        #expect(throws: S3Error.self) { try ACLGrants.fromHeaders { $0 == "x-amz-grant-read" ? "uri=http://x/y" : nil } }
    }

    @Test func accessControlPolicyBodyIsReadAndWritten() throws {
        let grants = CannedACL.authenticatedRead.grants(owner: Self.owner, bucketOwner: Self.owner)
        let document = ACLGrants.policyDocument(owner: (Self.owner, "owner name"), grants: grants) { "name of \($0)" }
        #expect(document.text.contains("xsi:type=\"Group\"><URI>http://acs.amazonaws.com/groups/global/AuthenticatedUsers</URI>"))
        #expect(document.text.contains("<DisplayName>name of \(Self.owner)</DisplayName>"))
        // What Depot writes, it reads back (clients send a modified GetObjectAcl answer).
        #expect(try ACLGrants.fromPolicy(Array(document.text.utf8)) == grants)
        #expect(throws: S3Error.self) { try ACLGrants.fromPolicy(Array("<AccessControlPolicy/>".utf8)) }
        let badPermission = document.text.replacingOccurrences(of: ">READ<", with: ">PEEK<")
        #expect(throws: S3Error.self) { try ACLGrants.fromPolicy(Array(badPermission.utf8)) }
        let email =
            "<AccessControlPolicy><AccessControlList><Grant><Grantee><EmailAddress>a@b.c</EmailAddress></Grantee><Permission>READ</Permission></Grant></AccessControlList></AccessControlPolicy>"
        #expect(try ACLGrants.fromPolicy(Array(email.utf8)) == [ACLGrant(.email("a@b.c"), .read)])
    }

    @Test func ownershipDocuments() throws {
        #expect(ObjectOwnership.of(document: nil) == (.bucketOwnerEnforced, true))
        #expect(ObjectOwnership.of(document: []) == (.objectWriter, false))
        for ownership in ObjectOwnership.allCases {
            #expect(ObjectOwnership.of(document: ownership.document).ownership == ownership)
            #expect(try ObjectOwnership.parse(controls: Array(ownership.controlsDocument.text.utf8)) == ownership)
        }
        #expect(ObjectOwnership.bucketOwnerEnforced.document == nil)
        #expect(throws: S3Error.self) {
            try ObjectOwnership.parse(
                controls: Array(
                    "<OwnershipControls><Rule><ObjectOwnership>Mine</ObjectOwnership></Rule></OwnershipControls>".utf8))
        }
        #expect(throws: S3Error.self) { try ObjectOwnership.parse(controls: Array("<OwnershipControls/>".utf8)) }
        #expect(throws: S3Error.self) { try ObjectOwnership.parse(header: "Everyone") }
    }

    @Test func anObjectsACLIsKeptBesideItsHeadersNotAmongThem() {
        var record = ObjectRecord(size: 1, etag: "e", created: 0, owner: Self.owner)
        record.systemMetadata = [("cache-control", "no-cache"), (ObjectRecord.cannedACLKey, "public-read")]
        // GET, HEAD and tier copies send headerMetadata: the ACL is not among them.
        #expect(record.headerMetadata.map(\.0) == ["cache-control"])
        #expect(S3Service.objectACL(of: record) == .publicRead)
        record.systemMetadata.removeAll { $0.0 == ObjectRecord.cannedACLKey }
        #expect(S3Service.objectACL(of: record) == .private)
    }

    @Test func groupGrantsDecideAccess() {
        let anonymous = ACLAccess.Principal.anonymous
        let account = ACLAccess.Principal.account(Self.other)
        var inputs = ACLAccess.Inputs(bucketACL: .private, objectACL: .publicRead, aclsEnabled: true)
        #expect(ACLAccess.permits(anonymous, action: "s3:GetObject", inputs))
        #expect(!ACLAccess.permits(anonymous, action: "s3:PutObjectAcl", inputs))
        #expect(!ACLAccess.permits(anonymous, action: "s3:ListBucket", inputs))
        #expect(!ACLAccess.permits(anonymous, action: "s3:GetObjectTagging", inputs))
        inputs.objectACL = .authenticatedRead
        #expect(!ACLAccess.permits(anonymous, action: "s3:GetObject", inputs))
        #expect(ACLAccess.permits(account, action: "s3:GetObject", inputs))
        inputs.objectACL = .bucketOwnerRead
        #expect(!ACLAccess.permits(account, action: "s3:GetObject", inputs))
        inputs.objectACL = nil
        inputs.bucketACL = .publicReadWrite
        #expect(ACLAccess.permits(anonymous, action: "s3:ListBucket", inputs))
        #expect(ACLAccess.permits(anonymous, action: "s3:PutObject", inputs))
        #expect(ACLAccess.permits(anonymous, action: "s3:DeleteObject", inputs))
        #expect(!ACLAccess.permits(anonymous, action: "s3:GetObject", inputs), "a bucket ACL does not open its objects")
        #expect(!ACLAccess.permits(anonymous, action: "s3:PutBucketPolicy", inputs))
        inputs.bucketACL = .publicRead
        #expect(ACLAccess.permits(account, action: "s3:ListBucket", inputs))
        #expect(!ACLAccess.permits(account, action: "s3:PutObject", inputs))
        // Disabled ACLs (BucketOwnerEnforced) and IgnorePublicAcls grant nothing.
        inputs.aclsEnabled = false
        #expect(!ACLAccess.permits(anonymous, action: "s3:ListBucket", inputs))
        inputs.aclsEnabled = true
        inputs.ignorePublicAcls = true
        #expect(!ACLAccess.permits(anonymous, action: "s3:ListBucket", inputs))
    }
}
