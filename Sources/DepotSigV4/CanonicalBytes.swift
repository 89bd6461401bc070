import DepotHashing

/// The canonical request and the string to sign of SigV4, written as UTF-8 bytes into one buffer.
///
/// The one definition of every part's bytes: ``CanonicalRequest`` (strings, for the signer, tests and logs) is
/// made of these pieces, and the verifier writes the whole canonical request into one buffer, hashes it, writes
/// the string to sign into the same buffer and signs that. Built as Swift strings (interpolation, `joined`, a
/// string per header line and per hex digest), the two took 5.2% of the server's CPU under 8 streams of 4 KiB
/// GETs (RESULTS-NOTES "Server CPU per small request").
enum CanonicalBytes {
    static let newline = UInt8(ascii: "\n")
    private static let lowerHexDigits: [UInt8] = Array("0123456789abcdef".utf8)
    /// Each byte's value as a hex digit of either case (0xff: not one), so the 64 digits of a signature are read
    /// without a call per digit into another module.
    private static let hexValues: [UInt8] = (0...255).map { Hex.value(UInt8($0)) ?? 0xff }

    /// The whole canonical request: method, canonical URI, canonical query, header lines, signed header names and
    /// payload hash, one per line. Throws `malformedPath` before `missingHeader`, as the parts come.
    static func appendCanonicalRequest(
        method: String, rawPath: String, queryItems: [QueryItem], headers: [SigV4Header],
        signedHeaders: [String], payloadHash: String, pathStyle: PathStyle, excluding: Set<String>,
        to out: inout [UInt8]
    ) throws(SigV4Error) {
        out.append(contentsOf: method.utf8)
        out.append(newline)
        guard appendURI(rawPath: rawPath, style: pathStyle, to: &out) else { throw .malformedPath }
        out.append(newline)
        appendQuery(
            excluding.isEmpty ? queryItems : queryItems.filter { !excluding.contains($0.nameString) }, to: &out)
        out.append(newline)
        try appendHeaders(headers, signedHeaders: signedHeaders, to: &out)
        out.append(newline)
        appendSignedHeaderNames(signedHeaders, to: &out)
        out.append(newline)
        out.append(contentsOf: payloadHash.utf8)
    }

    /// `AWS4-HMAC-SHA256\n<time>\n<scope>\n<hex SHA-256 of the canonical request>`.
    static func appendStringToSign(
        time: AmzDate, scope: CredentialScope, canonicalRequestHash: some Collection<UInt8>, to out: inout [UInt8]
    ) {
        out.append(contentsOf: AuthorizationHeader.algorithm.utf8)
        out.append(newline)
        time.appendISO8601Basic(to: &out)
        out.append(newline)
        appendScope(scope, to: &out)
        out.append(newline)
        appendLowerHex(canonicalRequestHash, to: &out)
    }

    /// `<yyyyMMdd>/<region>/<service>/aws4_request`, as ``CredentialScope/description`` writes it.
    static func appendScope(_ scope: CredentialScope, to out: inout [UInt8]) {
        out.append(contentsOf: scope.date.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: scope.region.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: scope.service.utf8)
        out.append(UInt8(ascii: "/"))
        out.append(contentsOf: CredentialScope.terminator.utf8)
    }

    static func appendLowerHex(_ bytes: some Collection<UInt8>, to out: inout [UInt8]) {
        for b in bytes {
            out.append(lowerHexDigits[Int(b >> 4)])
            out.append(lowerHexDigits[Int(b & 0x0f)])
        }
    }

    /// 64 hex digits of either case to the 32 bytes they spell (a signature, a SHA-256), read straight off the
    /// UTF-8 into one array; nil for anything else.
    static func decodeHex32(_ hex: String) -> [UInt8]? {
        guard hex.utf8.count == 64 else { return nil }
        var out = [UInt8](repeating: 0, count: 32)
        var index = 0
        var high: UInt8 = 0
        for b in hex.utf8 {
            let digit = hexValues[Int(b)]
            guard digit != 0xff else { return nil }
            if index & 1 == 0 {
                high = digit
            } else {
                out[index >> 1] = high << 4 | digit
            }
            index += 1
        }
        return out
    }

    // MARK: - The parts

    /// The canonical URI; false when an S3 path holds a malformed `%` escape. S3 style decodes and re-encodes in
    /// one pass (a path already in canonical form comes out byte for byte).
    static func appendURI(rawPath: String, style: PathStyle, to out: inout [UInt8]) -> Bool {
        switch style {
        case .s3:
            if rawPath.utf8.isEmpty {
                out.append(UInt8(ascii: "/"))
                return true
            }
            var iterator = rawPath.utf8.makeIterator()
            while let b = iterator.next() {
                guard b == UInt8(ascii: "%") else {
                    SigV4Encoding.appendEncoded(byte: b, keepSlash: true, to: &out)
                    continue
                }
                guard let hi = iterator.next().flatMap(Hex.value), let lo = iterator.next().flatMap(Hex.value) else {
                    return false
                }
                SigV4Encoding.appendEncoded(byte: hi << 4 | lo, keepSlash: true, to: &out)
            }
            return true
        case .doubleEncoded:
            SigV4Encoding.appendEncoded(CanonicalRequest.normalizedPath(rawPath).utf8, keepSlash: true, to: &out)
            return true
        }
    }

    /// Each name and value encoded, pairs sorted by name then value (bytes), `name=` for an empty value.
    static func appendQuery(_ items: [QueryItem], to out: inout [UInt8]) {
        guard !items.isEmpty else { return }
        var encoded = items.map { item -> (name: [UInt8], value: [UInt8]) in
            var name = [UInt8]()
            SigV4Encoding.appendEncoded(item.name, keepSlash: false, to: &name)
            var value = [UInt8]()
            SigV4Encoding.appendEncoded(item.value, keepSlash: false, to: &value)
            return (name, value)
        }
        encoded.sort { a, b in
            a.name != b.name ? a.name.lexicographicallyPrecedes(b.name) : a.value.lexicographicallyPrecedes(b.value)
        }
        for (index, pair) in encoded.enumerated() {
            if index > 0 { out.append(UInt8(ascii: "&")) }
            out.append(contentsOf: pair.name)
            out.append(UInt8(ascii: "="))
            out.append(contentsOf: pair.value)
        }
    }

    /// `name:value\n` for each signed name: the name in lower case, then the trimmed values of every header of that
    /// name (any case) joined with `,` in arrival order. Throws `missingHeader` when a signed header is absent.
    static func appendHeaders(_ headers: [SigV4Header], signedHeaders: [String], to out: inout [UInt8])
        throws(SigV4Error)
    {
        for name in signedHeaders {
            appendLowercased(name, to: &out)
            out.append(UInt8(ascii: ":"))
            var found = false
            for header in headers where CanonicalRequest.equalIgnoringASCIICase(header.name, name) {
                if found { out.append(UInt8(ascii: ",")) }
                found = true
                appendTrimmedValue(header.value, to: &out)
            }
            guard found else { throw .missingHeader(CanonicalRequest.lowercased(name)) }
            out.append(newline)
        }
    }

    /// The signed header names as the client listed them, joined with `;`.
    static func appendSignedHeaderNames(_ names: [String], to out: inout [UInt8]) {
        for (index, name) in names.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ";")) }
            out.append(contentsOf: name.utf8)
        }
    }

    /// A header value without leading and trailing blanks (space, tab), each inner run of blanks made one space.
    static func appendTrimmedValue(_ value: some StringProtocol, to out: inout [UInt8]) {
        if !needsTrimming(value) {
            out.append(contentsOf: value.utf8)
            return
        }
        var started = false
        var pendingSpace = false
        for b in value.utf8 {
            if b == UInt8(ascii: " ") || b == UInt8(ascii: "\t") {
                pendingSpace = started
            } else {
                if pendingSpace { out.append(UInt8(ascii: " ")) }
                pendingSpace = false
                started = true
                out.append(b)
            }
        }
    }

    /// Most values have nothing to trim: no blank at either end, no tab, no run of two blanks.
    static func needsTrimming(_ value: some StringProtocol) -> Bool {
        var previousBlank = true
        for b in value.utf8 {
            let blank = b == UInt8(ascii: " ") || b == UInt8(ascii: "\t")
            if b == UInt8(ascii: "\t") || (blank && previousBlank) { return true }
            previousBlank = blank
        }
        return previousBlank
    }

    static func appendLowercased(_ name: String, to out: inout [UInt8]) {
        for b in name.utf8 {
            out.append(b >= UInt8(ascii: "A") && b <= UInt8(ascii: "Z") ? b + 32 : b)
        }
    }
}
