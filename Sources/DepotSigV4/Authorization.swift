import DepotHashing

/// The `Authorization` header of a SigV4 request, parsed but not yet verified:
/// `AWS4-HMAC-SHA256 Credential=AK/20150830/us-east-1/s3/aws4_request, SignedHeaders=host;x-amz-date, Signature=…`.
public struct AuthorizationHeader: Sendable, Equatable {
    public static let algorithm = "AWS4-HMAC-SHA256"

    public let accessKey: String
    public let scope: CredentialScope
    /// As the client listed them (lower case and sorted, from every conforming client).
    public let signedHeaders: [String]
    /// Lower-case hex.
    public let signature: String

    public init(accessKey: String, scope: CredentialScope, signedHeaders: [String], signature: String) {
        self.accessKey = accessKey
        self.scope = scope
        self.signedHeaders = signedHeaders
        self.signature = signature
    }

    /// Parses a header value. Spaces after the commas are optional; the three fields may come in any order, but
    /// each exactly once and nothing else.
    public init(parsing value: String) throws(SigV4Error) {
        let text = Self.trimmed(Substring(value))
        guard let space = text.firstIndex(of: " ") else {
            if text == Self.algorithm { throw .missingAuthorizationField("Credential") }
            throw .unsupportedAlgorithm(String(text.prefix { $0 != "=" }))
        }
        let algorithm = text[..<space]
        guard algorithm == Self.algorithm else { throw .unsupportedAlgorithm(String(algorithm)) }
        var fields = [Substring: Substring]()
        for part in text[space...].split(separator: ",", omittingEmptySubsequences: false) {
            let field = Self.trimmed(part)
            guard let equals = field.firstIndex(of: "=") else {
                throw .malformedAuthorization("expected key=value, found '\(field)'")
            }
            let key = field[..<equals]
            guard ["Credential", "SignedHeaders", "Signature"].contains(key) else {
                throw .malformedAuthorization("unknown field '\(key)'")
            }
            guard fields[key] == nil else { throw .malformedAuthorization("repeated field '\(key)'") }
            fields[key] = field[field.index(after: equals)...]
        }
        guard let credential = fields["Credential"] else { throw .missingAuthorizationField("Credential") }
        guard let signedHeaders = fields["SignedHeaders"] else { throw .missingAuthorizationField("SignedHeaders") }
        guard let signature = fields["Signature"] else { throw .missingAuthorizationField("Signature") }
        (accessKey, scope) = try Self.parseCredential(credential)
        self.signedHeaders = try Self.parseSignedHeaders(signedHeaders)
        self.signature = try Self.parseSignature(signature)
    }

    /// The header value, with `, ` between the fields as the AWS SDKs write it.
    public var value: String {
        "\(Self.algorithm) Credential=\(accessKey)/\(scope), SignedHeaders=\(signedHeaders.joined(separator: ";")), "
            + "Signature=\(signature)"
    }

    // MARK: - Shared with the presigned query

    /// `<access key>/<yyyyMMdd>/<region>/<service>/aws4_request`. Split from the right, so an access key that
    /// contains `/` (MinIO allows it) still parses.
    static func parseCredential(_ text: Substring) throws(SigV4Error) -> (String, CredentialScope) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count >= 5, parts.last == Substring(CredentialScope.terminator) else {
            throw .malformedCredential(String(text))
        }
        let n = parts.count
        let accessKey = parts[0..<n - 4].joined(separator: "/")
        let date = parts[n - 4]
        guard !accessKey.isEmpty, !parts[n - 3].isEmpty, !parts[n - 2].isEmpty,
            date.utf8.count == 8, AmzDate(iso8601Basic: date + "T000000Z") != nil
        else { throw .malformedCredential(String(text)) }
        return (
            accessKey, CredentialScope(date: String(date), region: String(parts[n - 3]), service: String(parts[n - 2]))
        )
    }

    static func parseSignedHeaders(_ text: Substring) throws(SigV4Error) -> [String] {
        let names = text.split(separator: ";", omittingEmptySubsequences: false)
        guard !names.isEmpty, names.allSatisfy({ !$0.isEmpty && !$0.contains(" ") }) else {
            throw .malformedAuthorization("malformed SignedHeaders '\(text)'")
        }
        return names.map(String.init)
    }

    static func parseSignature(_ text: Substring) throws(SigV4Error) -> String {
        guard text.utf8.count == 64, let bytes = Hex.decode(text) else {
            throw .malformedAuthorization("the signature must be 64 hex digits")
        }
        return Hex.encode(bytes)
    }

    static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while text.first == " " || text.first == "\t" { text = text.dropFirst() }
        while text.last == " " || text.last == "\t" { text = text.dropLast() }
        return text
    }
}

/// The SigV4 parameters of a presigned URL (`X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=…`), parsed but not
/// yet verified.
public struct PresignedQuery: Sendable, Equatable {
    /// The longest validity AWS allows: seven days.
    public static let maximumExpires = 604_800

    public let accessKey: String
    public let scope: CredentialScope
    public let time: AmzDate
    /// Seconds after ``time`` during which the URL is valid, 1...604800.
    public let expires: Int
    public let signedHeaders: [String]
    /// Lower-case hex.
    public let signature: String
    public let securityToken: String?
    /// `X-Amz-Content-Sha256` (any case) when the URL carries one; otherwise the payload is `UNSIGNED-PAYLOAD`.
    public let contentSHA256: String?

    /// Whether a raw query string carries SigV4 presigned parameters at all.
    public static func isPresigned(rawQuery: String) -> Bool {
        guard rawQuery.contains("X-Amz-") else { return false }
        return SigV4Encoding.parseQuery(rawQuery)?.contains { isPresignMarker($0) } ?? true
    }

    public init(parsing rawQuery: String) throws(SigV4Error) {
        guard let items = SigV4Encoding.parseQuery(rawQuery) else { throw .malformedQuery }
        try self.init(items: items)
    }

    init(items: [QueryItem]) throws(SigV4Error) {
        func single(_ name: String, anyCase: Bool = false) throws(SigV4Error) -> String? {
            let lower = CanonicalRequest.lowercased(name)
            let matches = items.filter {
                anyCase ? CanonicalRequest.lowercased($0.nameString) == lower : $0.hasName(name)
            }
            guard matches.count <= 1 else { throw .malformedAuthorization("repeated parameter \(name)") }
            return matches.first?.valueString
        }
        func required(_ name: String) throws(SigV4Error) -> String {
            guard let value = try single(name) else { throw .missingAuthorizationField(name) }
            return value
        }
        let algorithm = try required("X-Amz-Algorithm")
        guard algorithm == AuthorizationHeader.algorithm else { throw .unsupportedAlgorithm(algorithm) }
        (accessKey, scope) = try AuthorizationHeader.parseCredential(Substring(try required("X-Amz-Credential")))
        let date = try required("X-Amz-Date")
        guard let time = AmzDate(iso8601Basic: date) else { throw .malformedDate(date) }
        self.time = time
        let expires = try required("X-Amz-Expires")
        guard expires.utf8.count <= 7, expires.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let seconds = Int(expires),
            (1...Self.maximumExpires).contains(seconds)
        else { throw .malformedExpires(expires) }
        self.expires = seconds
        signedHeaders = try AuthorizationHeader.parseSignedHeaders(Substring(try required("X-Amz-SignedHeaders")))
        signature = try AuthorizationHeader.parseSignature(Substring(try required("X-Amz-Signature")))
        securityToken = try single("X-Amz-Security-Token")
        // Some SDKs hoist the header into the query in lower case.
        contentSHA256 = try single("X-Amz-Content-Sha256", anyCase: true)
    }

    static func isPresignMarker(_ item: QueryItem) -> Bool {
        item.hasName("X-Amz-Algorithm") || item.hasName("X-Amz-Credential") || item.hasName("X-Amz-Signature")
    }
}
