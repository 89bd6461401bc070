import DepotHashing

/// How the path becomes the canonical URI; the one place where S3 differs from every other AWS service.
public enum PathStyle: Sendable, Equatable {
    /// S3: decode the raw path and encode each byte once, `/` kept. No normalisation, because `..`, `.` and `//`
    /// are legal inside object keys.
    case s3
    /// Every other service (SQS, STS, …): drop empty, `.` and `..` segments, then encode the raw path (already
    /// encoded once on the wire) a second time, as the SigV4 specification and the SDKs do.
    case doubleEncoded
}

/// The canonical request of SigV4: method, canonical URI, canonical query, canonical headers, signed header names
/// and payload hash, one per line. Both sides build it from the request as it is on the wire, so the signer and
/// the verifier share this one definition.
public struct CanonicalRequest: Sendable, Equatable {
    public let method: String
    public let uri: String
    public let query: String
    /// One `name:value\n` line per signed header.
    public let headers: String
    /// The signed header names joined with `;`.
    public let signedHeaders: String
    public let payloadHash: String

    /// - Parameters:
    ///   - rawPath: the path exactly as received or sent, still percent-encoded, without the query.
    ///   - rawQuery: the query string exactly as received or sent, without the `?`; empty when there is none.
    ///   - headers: every header of the request (names in any case, repeated names allowed, `host` included).
    ///   - signedHeaders: the names to sign, lower case, in the order the client listed them (sorted when signing).
    ///   - payloadHash: the literal last line, such as the `x-amz-content-sha256` value or `UNSIGNED-PAYLOAD`.
    ///   - excludingQueryParameters: decoded names left out of the canonical query (`X-Amz-Signature`).
    public init(
        method: String, rawPath: String, rawQuery: String, headers: [SigV4Header],
        signedHeaders: [String], payloadHash: String, pathStyle: PathStyle = .s3,
        excludingQueryParameters: Set<String> = []
    ) throws(SigV4Error) {
        guard let items = SigV4Encoding.parseQuery(rawQuery) else { throw .malformedQuery }
        try self.init(
            method: method, rawPath: rawPath, queryItems: items, headers: headers, signedHeaders: signedHeaders,
            payloadHash: payloadHash, pathStyle: pathStyle, excluding: excludingQueryParameters)
    }

    init(
        method: String, rawPath: String, queryItems: [QueryItem], headers: [SigV4Header],
        signedHeaders: [String], payloadHash: String, pathStyle: PathStyle, excluding: Set<String>
    ) throws(SigV4Error) {
        // The parts come from CanonicalBytes, the verifier's one-buffer writer, so both read the same bytes.
        guard let uri = Self.canonicalURI(rawPath: rawPath, style: pathStyle) else { throw .malformedPath }
        self.method = method
        self.uri = uri
        self.query = SigV4Encoding.canonicalQuery(
            excluding.isEmpty ? queryItems : queryItems.filter { !excluding.contains($0.nameString) })
        self.headers = try Self.canonicalHeaders(headers, signedHeaders: signedHeaders)
        var names = [UInt8]()
        CanonicalBytes.appendSignedHeaderNames(signedHeaders, to: &names)
        self.signedHeaders = String(decoding: names, as: UTF8.self)
        self.payloadHash = payloadHash
    }

    /// The canonical request itself.
    public var text: String {
        "\(method)\n\(uri)\n\(query)\n\(headers)\n\(signedHeaders)\n\(payloadHash)"
    }

    /// Hex SHA-256 of ``text``: the last line of the string to sign.
    public var hashHex: String {
        Hex.encode(DigestAlgorithm.sha256.hash(text.utf8))
    }

    /// `AWS4-HMAC-SHA256\n<time>\n<scope>\n<hash of the canonical request>`.
    public func stringToSign(time: AmzDate, scope: CredentialScope) -> String {
        var out = [UInt8]()
        CanonicalBytes.appendStringToSign(
            time: time, scope: scope, canonicalRequestHash: DigestAlgorithm.sha256.hash(text.utf8), to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    // MARK: - The parts

    /// The canonical URI of a raw path; nil when the path holds a malformed `%` escape (S3 style only).
    public static func canonicalURI(rawPath: String, style: PathStyle) -> String? {
        var out = [UInt8]()
        guard CanonicalBytes.appendURI(rawPath: rawPath, style: style, to: &out) else { return nil }
        return String(decoding: out, as: UTF8.self)
    }

    /// The canonical query of a raw query string; nil when it holds a malformed `%` escape.
    public static func canonicalQuery(rawQuery: String, excluding: Set<String> = []) -> String? {
        guard let items = SigV4Encoding.parseQuery(rawQuery) else { return nil }
        return SigV4Encoding.canonicalQuery(items.filter { !excluding.contains($0.nameString) })
    }

    /// `name:value\n` for each signed name: lower-case name, the trimmed values of every header of that name joined
    /// with `,` in the order they arrived. Throws when a signed header is absent.
    public static func canonicalHeaders(_ headers: [SigV4Header], signedHeaders: [String])
        throws(SigV4Error) -> String
    {
        var out = [UInt8]()
        try CanonicalBytes.appendHeaders(headers, signedHeaders: signedHeaders, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Header names compared as HTTP does (ASCII case-insensitive), without making lower-case copies.
    static func equalIgnoringASCIICase(_ a: String, _ b: String) -> Bool {
        // A native string knows its UTF-8 length: most names differ there.
        guard a.utf8.count == b.utf8.count else { return false }
        return a.utf8.elementsEqual(b.utf8) { x, y in
            x == y || (x | 0x20 == y | 0x20 && (x | 0x20) >= UInt8(ascii: "a") && (x | 0x20) <= UInt8(ascii: "z"))
        }
    }

    /// A header value with leading and trailing blanks removed and each inner run of blanks made one space.
    public static func trimmedHeaderValue(_ value: some StringProtocol) -> String {
        guard CanonicalBytes.needsTrimming(value) else { return String(value) }
        var out = [UInt8]()
        CanonicalBytes.appendTrimmedValue(value, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    static func lowercased(_ name: String) -> String {
        guard name.utf8.contains(where: { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") }) else { return name }
        return String(
            decoding: name.utf8.map { $0 >= UInt8(ascii: "A") && $0 <= UInt8(ascii: "Z") ? $0 + 32 : $0 },
            as: UTF8.self)
    }

    /// Removes empty, `.` and `..` segments (RFC 3986 dot-segment removal, plus `//` collapsing as the SDKs do),
    /// keeping a trailing `/`.
    static func normalizedPath(_ path: String) -> String {
        var segments = [Substring]()
        for segment in path.split(separator: "/", omittingEmptySubsequences: true) {
            if segment == "." { continue }
            if segment == ".." {
                _ = segments.popLast()
            } else {
                segments.append(segment)
            }
        }
        var out = "/" + segments.joined(separator: "/")
        if path.hasSuffix("/") && !segments.isEmpty { out += "/" }
        return out
    }
}
