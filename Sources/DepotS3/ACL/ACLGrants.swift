/// Explicit grants a client sends (`x-amz-grant-*` headers, an AccessControlPolicy body), read
/// and mapped back to the canned ACL that implies exactly them; anything a canned ACL cannot
/// say is refused with 501 naming the grant. Also the AccessControlPolicy document Depot answers.
enum ACLGrants {
    /// The headers that carry grants, and the permission each gives.
    static let headers: [(name: String, permission: ACLPermission)] = [
        ("x-amz-grant-read", .read), ("x-amz-grant-write", .write), ("x-amz-grant-read-acp", .readACP),
        ("x-amz-grant-write-acp", .writeACP), ("x-amz-grant-full-control", .fullControl),
    ]

    /// Grants from `x-amz-grant-*` headers (`id="…"`, `uri="…"`, `emailAddress="…"`, comma
    /// separated); nil when the request has none. `value` reads one header.
    static func fromHeaders(_ value: (String) -> String?) throws -> [ACLGrant]? {
        var grants: [ACLGrant] = []
        var any = false
        for (name, permission) in headers {
            guard let text = value(name) else { continue }
            any = true
            for item in text.split(separator: ",") {
                let item = item.trimmedSpaces()
                guard let eq = item.firstIndex(of: "=") else {
                    throw S3Error.invalidArgument("\(name): '\(item)' is not type=value (id, uri or emailAddress)")
                }
                var grantee = item[item.index(after: eq)...].trimmedSpaces()
                if grantee.count >= 2, grantee.hasPrefix("\""), grantee.hasSuffix("\"") {
                    grantee = String(grantee.dropFirst().dropLast())
                }
                let type = item[..<eq].trimmedSpaces().lowercased()
                grants.append(ACLGrant(try Self.grantee(type: type, grantee, field: name), permission))
            }
        }
        return any ? grants : nil
    }

    private static func grantee(type: String, _ value: String, field: String) throws -> ACLGrant.Grantee {
        switch type {
        case "id": return .user(value)
        case "emailaddress": return .email(value)
        case "uri":
            guard let group = ACLGroup(rawValue: value) else {
                throw S3Error.invalidArgument("\(field): '\(value)' is not a group URI AWS defines")
            }
            return .group(group)
        default:
            throw S3Error.invalidArgument("\(field): grantee type '\(type)' is not id, uri or emailAddress")
        }
    }

    /// Grants from an AccessControlPolicy body (PutBucketAcl, PutObjectAcl). The grantee's kind
    /// is read from its element (ID, URI, EmailAddress), which is what its xsi:type says.
    static func fromPolicy(_ bytes: [UInt8]) throws -> [ACLGrant] {
        let root = try XMLElement.parse(bytes)
        guard root.name == "AccessControlPolicy", let list = root.child("AccessControlList") else {
            throw malformedACL()
        }
        return try list.children("Grant").map { grant in
            guard let grantee = grant.child("Grantee"), let permissionText = grant.child("Permission")?.text,
                let permission = ACLPermission(rawValue: permissionText.trimmedSpaces())
            else { throw malformedACL() }
            if let id = grantee.child("ID")?.text { return ACLGrant(.user(id.trimmedSpaces()), permission) }
            if let email = grantee.child("EmailAddress")?.text { return ACLGrant(.email(email.trimmedSpaces()), permission) }
            if let uri = grantee.child("URI")?.text {
                guard let group = ACLGroup(rawValue: uri.trimmedSpaces()) else {
                    throw S3Error.invalidArgument("Grantee URI '\(uri)' is not a group AWS defines")
                }
                return ACLGrant(.group(group), permission)
            }
            throw malformedACL()
        }
    }

    static func malformedACL() -> S3Error {
        S3Error(
            "MalformedACLError", .badRequest,
            "The XML you provided was not well-formed or did not validate against our published schema")
    }

    /// The canned ACL whose grants are exactly `grants` (as a set) for these owners; on a bucket
    /// only those a bucket keeps. Otherwise 501 naming the first grant no canned ACL explains.
    static func cannedACL(
        matching grants: [ACLGrant], owner: String, bucketOwner: String, onBucket: Bool, operation: String
    ) throws -> CannedACL {
        let asked = Set(grants)
        let candidates = CannedACL.allCases.filter { !onBucket || $0.onBucket == $0 }
        if let match = candidates.first(where: { Set($0.grants(owner: owner, bucketOwner: bucketOwner)) == asked }) {
            return match
        }
        let explained = Set(candidates.flatMap { $0.grants(owner: owner, bucketOwner: bucketOwner) })
        let reason: String
        if let odd = grants.first(where: { !explained.contains($0) }) {
            reason = "a grant of \(odd.permission.rawValue) to \(describe(odd.grantee))"
        } else if !asked.contains(ACLGrant(.user(owner), .fullControl)) {
            reason = "grants without FULL_CONTROL for the owner \(owner)"
        } else {
            reason = "this combination of grants"
        }
        throw S3Error.notImplemented(
            "\(operation) with \(reason): Depot keeps only the canned ACLs (\(candidates.map(\.rawValue).joined(separator: ", "))) and grants that say exactly what one of them says"
        )
    }

    static func describe(_ grantee: ACLGrant.Grantee) -> String {
        switch grantee {
        case .user(let id): "the user \(id)"
        case .email(let address): "the e-mail address \(address)"
        case .group(let group): "the group \(group.rawValue)"
        }
    }

    /// The AccessControlPolicy document: the owner and the grants, as AWS writes them.
    static func policyDocument(owner: (id: String, name: String), grants: [ACLGrant], displayName: (String) -> String)
        -> XMLWriter
    {
        var xml = XMLWriter()
        xml.group("AccessControlPolicy", namespace: true) { x in
            x.group("Owner") { o in
                o.element("ID", owner.id)
                o.element("DisplayName", owner.name)
            }
            x.group("AccessControlList") { l in
                for grant in grants {
                    l.raw("<Grant>")
                    switch grant.grantee {
                    case .user(let id):
                        l.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"CanonicalUser\">")
                        l.element("ID", id)
                        l.element("DisplayName", displayName(id))
                    case .group(let group):
                        l.raw("<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"Group\">")
                        l.element("URI", group.rawValue)
                    case .email(let address):
                        l.raw(
                            "<Grantee xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" xsi:type=\"AmazonCustomerByEmail\">"
                        )
                        l.element("EmailAddress", address)
                    }
                    l.raw("</Grantee>")
                    l.element("Permission", grant.permission.rawValue)
                    l.raw("</Grant>")
                }
            }
        }
        return xml
    }
}
