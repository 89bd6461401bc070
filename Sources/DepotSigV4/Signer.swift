/// An access key and its secret, for signing outgoing requests. The description hides the secret.
public struct SigV4Credentials: Sendable, CustomStringConvertible {
    public var accessKey: String
    public var secretKey: String
    /// For temporary (STS) credentials; sent and signed as `x-amz-security-token`.
    public var sessionToken: String?

    public init(accessKey: String, secretKey: String, sessionToken: String? = nil) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.sessionToken = sessionToken
    }

    public var description: String { "SigV4Credentials(accessKey: \(accessKey), secretKey: redacted)" }
}

/// Signs outgoing requests: to S3 tiers (service `s3`) and to SQS (service `sqs`, form-encoded POST bodies).
///
/// Every header passed in is signed, so pass the ones that must not change in transit (`host`, `content-type`,
/// `content-md5`, `x-amz-*`) and add hop-by-hop ones such as `user-agent` after signing. The caller builds the
/// path with ``SigV4Encoding/encodePath(_:)`` and the query with ``SigV4Encoding/queryString(_:)``, sends exactly
/// those, and sends `host` exactly as given (with the port when it is not the scheme's default).
public struct SigV4Signer: Sendable {
    public let credentials: SigV4Credentials
    public let region: String
    public let service: String
    public let pathStyle: PathStyle
    private let keyCache: SigningKeyCache

    /// `pathStyle` defaults to `.s3` for service `s3` and `.doubleEncoded` for every other service.
    public init(
        credentials: SigV4Credentials, region: String, service: String, pathStyle: PathStyle? = nil,
        keyCache: SigningKeyCache = .shared
    ) {
        self.credentials = credentials
        self.region = region
        self.service = service
        self.pathStyle = pathStyle ?? (service == "s3" ? .s3 : .doubleEncoded)
        self.keyCache = keyCache
    }

    /// Signs with the Authorization header. Returns the headers to add to the request, in this order:
    /// `x-amz-date`, `x-amz-content-sha256` (service `s3` only), `x-amz-security-token` (with a session token)
    /// and `authorization`. Any of them already in `request.headers` is replaced.
    ///
    /// - Parameters:
    ///   - payloadHash: hex SHA-256 of the body (``PayloadHash/value``), or `UNSIGNED-PAYLOAD`.
    ///   - time: Unix seconds; pass the clock's, or a fixed one in tests.
    public func sign(_ request: SigV4Request, payloadHash: String, time: Int) throws(SigV4Error) -> [SigV4Header] {
        let date = AmzDate(unixSeconds: time)
        let scope = CredentialScope(time: date, region: region, service: service)
        var added: [SigV4Header] = [("x-amz-date", date.iso8601Basic)]
        if service == "s3" { added.append(("x-amz-content-sha256", payloadHash)) }
        if let token = credentials.sessionToken { added.append(("x-amz-security-token", token)) }
        let replaced = Set(added.map(\.name) + ["authorization"])
        let headers = request.headers.filter { !replaced.contains(CanonicalRequest.lowercased($0.name)) } + added
        let signedHeaders = try Self.signedHeaderNames(headers)
        let canonical = try CanonicalRequest(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: headers,
            signedHeaders: signedHeaders, payloadHash: payloadHash, pathStyle: pathStyle)
        let key = keyCache.key(secretKey: credentials.secretKey, scope: scope)
        let authorization = AuthorizationHeader(
            accessKey: credentials.accessKey, scope: scope, signedHeaders: signedHeaders,
            signature: key.signatureHex(canonical.stringToSign(time: date, scope: scope)))
        return added + [("authorization", authorization.value)]
    }

    /// Presigns: returns the complete query string for the URL (the request's own parameters plus the `X-Amz-*`
    /// ones, `X-Amz-Signature` last). The headers in `request.headers` (at least `host`) are signed and must be sent
    /// with the request; S3 signs the payload as `UNSIGNED-PAYLOAD`.
    public func presign(
        _ request: SigV4Request, expires: Int, time: Int, payloadHash: String = PayloadHash.unsignedValue
    ) throws(SigV4Error) -> String {
        guard (1...PresignedQuery.maximumExpires).contains(expires) else { throw .malformedExpires(String(expires)) }
        guard var items = SigV4Encoding.parseQuery(request.rawQuery) else { throw .malformedQuery }
        let date = AmzDate(unixSeconds: time)
        let scope = CredentialScope(time: date, region: region, service: service)
        let signedHeaders = try Self.signedHeaderNames(request.headers)
        var parameters = [
            ("X-Amz-Algorithm", AuthorizationHeader.algorithm),
            ("X-Amz-Credential", "\(credentials.accessKey)/\(scope)"),
            ("X-Amz-Date", date.iso8601Basic),
            ("X-Amz-Expires", String(expires)),
            ("X-Amz-SignedHeaders", signedHeaders.joined(separator: ";")),
        ]
        if let token = credentials.sessionToken { parameters.append(("X-Amz-Security-Token", token)) }
        items.removeAll { item in item.hasName("X-Amz-Signature") || parameters.contains { item.hasName($0.0) } }
        items += parameters.map { QueryItem(name: Array($0.0.utf8), value: Array($0.1.utf8)) }
        let canonical = try CanonicalRequest(
            method: request.method, rawPath: request.rawPath, queryItems: items, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: payloadHash, pathStyle: pathStyle, excluding: [])
        let key = keyCache.key(secretKey: credentials.secretKey, scope: scope)
        return canonical.query + "&X-Amz-Signature="
            + key.signatureHex(canonical.stringToSign(time: date, scope: scope))
    }

    /// Lower-case, de-duplicated, sorted byte-wise; `host` is required.
    private static func signedHeaderNames(_ headers: [SigV4Header]) throws(SigV4Error) -> [String] {
        let names = Set(headers.map { CanonicalRequest.lowercased($0.name) })
        guard names.contains("host") else { throw .missingHeader("host") }
        return names.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    }
}
