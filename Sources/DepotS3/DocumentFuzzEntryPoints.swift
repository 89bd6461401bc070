import HTTPTypes

/// Public doors to the parsers of the bucket documents and configuration bodies a client sends
/// (policy, ACL, CORS, lifecycle, notification, replication, encryption, tagging, Object Lock,
/// versioning, DeleteObjects, public access block, ownership controls), for the libFuzzer targets
/// in Fuzz/ and the unit test that replays their seed corpora (DocumentCorpusTests).
///
/// Each door checks the properties the fuzzer holds the parser to, so the fuzz target and the
/// unit test check the same thing: a document is either accepted or refused with an S3Error
/// whose code is one this document's parser may answer (4xx, or 501 for what Depot does not
/// do), never another error; and where Depot writes the document back (GetBucket… answers, the
/// stored copy), what it writes parses to the same value and writes the same text again.
public enum S3DocumentFuzzEntryPoints {
    /// Every document; the raw value is the fuzz target's name and its Fuzz/Corpus/<name>/ folder.
    public enum Document: String, CaseIterable, Sendable {
        case bucketPolicy = "bucket-policy"
        /// An AccessControlPolicy body (PutBucketAcl, PutObjectAcl).
        case aclXML = "acl-xml"
        /// `x-amz-acl` and `x-amz-grant-*` headers, one `name: value` per line.
        case aclHeaders = "acl-headers"
        case corsXML = "cors-xml"
        case lifecycleXML = "lifecycle-xml"
        case notificationXML = "notification-xml"
        case replicationXML = "replication-xml"
        case encryptionXML = "encryption-xml"
        case taggingXML = "tagging-xml"
        case objectLockXML = "object-lock-xml"
        case versioningXML = "versioning-xml"
        case deleteObjectsXML = "delete-objects-xml"
        case publicAccessBlockXML = "public-access-block-xml"
        case ownershipControlsXML = "ownership-controls-xml"
    }

    /// What the parser answered, and the broken property if one broke (nil when all held).
    public struct Verdict: Equatable, Sendable {
        /// nil when accepted, else the S3 error code of the refusal.
        public var refusal: String?
        public var violation: String?
    }

    /// Codes every XML document parser may answer; each document adds its own.
    private static let commonCodes: Set<String> = [
        "MalformedXML", "InvalidArgument", "InvalidRequest", "NotImplemented", "InvalidStorageClass",
    ]

    /// Parses `bytes` as `document` and checks the properties above.
    public static func check(_ document: Document, _ bytes: [UInt8]) -> Verdict {
        switch document {
        case .bucketPolicy:
            return roundTrip(bytes, codes: ["MalformedPolicy"]) { bytes in
                let policy = try BucketPolicy(parsing: bytes, bucket: "fuzz-bucket")
                // What PutBucketPolicy asks of a parsed policy next (the BlockPublicPolicy check).
                _ = policy.isPublic
                return policy
            }
        case .aclXML:
            return roundTrip(
                bytes, codes: commonCodes.union(["MalformedACLError"]), parse: ACLGrants.fromPolicy,
                write: { ACLGrants.policyDocument(owner: ("owner-id", "owner"), grants: $0, displayName: { $0 }) })
        case .aclHeaders:
            return checkACLHeaders(String(decoding: bytes, as: UTF8.self))
        case .corsXML:
            return roundTrip(bytes, codes: commonCodes, parse: CORSConfiguration.init(xml:), write: \.document)
        case .lifecycleXML:
            return roundTrip(bytes, codes: commonCodes, parse: LifecycleConfiguration.init(xml:), write: \.document)
        case .notificationXML:
            return roundTrip(bytes, codes: commonCodes, parse: NotificationConfiguration.init(xml:), write: \.document)
        case .replicationXML:
            return roundTrip(bytes, codes: commonCodes, parse: ReplicationConfiguration.init(xml:), write: \.document)
        case .encryptionXML:
            return roundTrip(bytes, codes: commonCodes, parse: BucketEncryption.init(xml:), write: \.xml)
        case .taggingXML:
            return roundTrip(
                bytes, codes: commonCodes.union(["InvalidTag", "BadRequest"]),
                parse: { try S3Service.parseTagging($0, maxTags: 50).map { TagPair(key: $0.0, value: $0.1) } },
                write: { S3Service.taggingDocument($0.map { ($0.key, $0.value) }) })
        case .objectLockXML:
            return roundTrip(
                bytes, codes: commonCodes, parse: S3Service.parseObjectLockConfiguration,
                write: S3Service.objectLockDocument)
        case .versioningXML:
            return roundTrip(bytes, codes: commonCodes) {
                try S3Service.parseVersioningConfiguration($0, mfaHeader: false)?.rawValue
            }
        case .deleteObjectsXML:
            return roundTrip(bytes, codes: commonCodes) { bytes in
                let (quiet, entries) = try S3Service.parseDeleteObjects(bytes)
                return DeleteRequest(quiet: quiet, keys: entries.map(\.key), versionIds: entries.map(\.versionId))
            }
        case .publicAccessBlockXML:
            return roundTrip(bytes, codes: commonCodes, parse: PublicAccessBlock.init(xml:), write: \.xml)
        case .ownershipControlsXML:
            return roundTrip(
                bytes, codes: commonCodes, parse: { try ObjectOwnership.parse(controls: $0) }, write: \.controlsDocument)
        }
    }

    private struct TagPair: Equatable {
        var key: String
        var value: String
    }

    private struct DeleteRequest: Equatable {
        var quiet: Bool
        var keys: [String]
        var versionIds: [String?]
    }

    /// Parses; on acceptance writes the value (when `write` is given), parses that and writes again.
    private static func roundTrip<Value: Equatable>(
        _ bytes: [UInt8], codes: Set<String>, parse: ([UInt8]) throws -> Value, write: ((Value) -> XMLWriter)? = nil
    ) -> Verdict {
        let value: Value
        do {
            value = try parse(bytes)
        } catch {
            return refused(error, codes: codes)
        }
        guard let write else { return Verdict(refusal: nil, violation: nil) }
        let written = write(value).text
        let reread: Value
        do {
            reread = try parse(Array(written.utf8))
        } catch {
            return Verdict(refusal: nil, violation: "the document Depot writes is refused (\(error)): \(written)")
        }
        guard reread == value else {
            return Verdict(refusal: nil, violation: "the written document reads back as another value: \(written)")
        }
        let rewritten = write(reread).text
        guard rewritten == written else {
            return Verdict(refusal: nil, violation: "writing the read-back value changes the text: \(written) → \(rewritten)")
        }
        return Verdict(refusal: nil, violation: nil)
    }

    /// A refusal must be an S3Error (a policy's PolicyProblem, which PutBucketPolicy answers as
    /// MalformedPolicy) with one of `codes` and a client-error status (or 501).
    private static func refused(_ error: any Error, codes: Set<String>) -> Verdict {
        let s3Error: S3Error
        if let problem = error as? PolicyProblem {
            s3Error = S3Error("MalformedPolicy", .badRequest, problem.message)
        } else if let error = error as? S3Error {
            s3Error = error
        } else {
            return Verdict(refusal: nil, violation: "refused with \(type(of: error)), not an S3Error: \(error)")
        }
        let status = s3Error.status.code
        guard codes.contains(s3Error.code), (400..<500).contains(status) || status == 501 else {
            return Verdict(refusal: s3Error.code, violation: "refused with \(s3Error.code) (\(status)): \(s3Error.message)")
        }
        return Verdict(refusal: s3Error.code, violation: nil)
    }

    /// The ACL headers of a PutBucketAcl / PutObjectAcl / PUT: read as the request's headers
    /// (first of a name wins, names in any case). Grants must survive being written back as
    /// headers, and the ACL they map to must be one a bucket or object keeps.
    private static func checkACLHeaders(_ text: String) -> Verdict {
        var headers: [(String, String)] = []
        for line in text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers.append((line[..<colon].lowercased(), String(line[line.index(after: colon)...])))
        }
        let header: (String) -> String? = { name in headers.first { $0.0 == name }?.1 }
        let codes = commonCodes
        for onBucket in [true, false] {
            do {
                let acl = try S3Service.requestedACL(
                    header, owner: "owner-id", bucketOwner: onBucket ? "owner-id" : "bucket-owner-id", onBucket: onBucket,
                    operation: "PutAcl")
                if let acl, onBucket, acl.onBucket != acl, header("x-amz-acl") == nil {
                    return Verdict(refusal: nil, violation: "grants mapped to \(acl.rawValue), which a bucket does not keep")
                }
            } catch {
                let verdict = refused(error, codes: codes)
                if verdict.violation != nil || onBucket == false { return verdict }
                continue
            }
        }
        // The grants alone, written back as the headers a client would send for them.
        guard let grants = try? ACLGrants.fromHeaders(header) else { return Verdict(refusal: nil, violation: nil) }
        var written: [String: String] = [:]
        for (name, permission) in ACLGrants.headers {
            let items = grants.filter { $0.permission == permission }.map { grant in
                switch grant.grantee {
                case .user(let id): "id=\"\(id)\""
                case .email(let address): "emailAddress=\"\(address)\""
                case .group(let group): "uri=\"\(group.rawValue)\""
                }
            }
            if !items.isEmpty { written[name] = items.joined(separator: ", ") }
        }
        let reread = (try? ACLGrants.fromHeaders { written[$0] }) ?? []
        guard Set(reread) == Set(grants) else {
            return Verdict(refusal: nil, violation: "grants \(grants) written as \(written) read back as \(reread)")
        }
        return Verdict(refusal: nil, violation: nil)
    }
}
