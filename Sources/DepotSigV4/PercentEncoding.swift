import DepotHashing

/// The URI encoding SigV4 prescribes, and the matching decoding.
///
/// SigV4 encodes every byte except the unreserved characters `A-Z a-z 0-9 - . _ ~` as `%XX` with upper-case
/// hex, working on UTF-8 bytes (not on characters), and keeps `/` only in paths. This is stricter than most URL
/// libraries (which leave `!$&'()*+,;=:@` alone), so clients that build URLs with SigV4's own encoder, as every
/// AWS SDK and minio-go do, produce the canonical form on the wire; the verifier still decodes and re-encodes
/// so that a client that sent `$` raw signs the same `%24` it would have sent.
///
/// The S3 layer should decode query parameters with ``decodeQueryComponent(_:)`` so that the values it acts
/// on are exactly the ones the signature covers.
public enum SigV4Encoding {
    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    static func isUnreserved(_ b: UInt8) -> Bool {
        switch b {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
            UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    /// Encodes bytes the SigV4 way; `keepSlash` leaves `/` as is (paths), otherwise it becomes `%2F`.
    public static func encode<Bytes: Sequence>(_ bytes: Bytes, keepSlash: Bool) -> String where Bytes.Element == UInt8 {
        var out = [UInt8]()
        out.reserveCapacity(bytes.underestimatedCount)
        appendEncoded(bytes, keepSlash: keepSlash, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    public static func encode(_ text: String, keepSlash: Bool = false) -> String {
        encode(text.utf8, keepSlash: keepSlash)
    }

    /// Encodes an S3 object key (or any path) for the wire and for the canonical URI: `/` stays a separator.
    public static func encodePath(_ path: String) -> String {
        encode(path.utf8, keepSlash: true)
    }

    static func appendEncoded<Bytes: Sequence>(_ bytes: Bytes, keepSlash: Bool, to out: inout [UInt8])
    where Bytes.Element == UInt8 {
        for b in bytes { appendEncoded(byte: b, keepSlash: keepSlash, to: &out) }
    }

    static func appendEncoded(byte b: UInt8, keepSlash: Bool, to out: inout [UInt8]) {
        if isUnreserved(b) || (keepSlash && b == UInt8(ascii: "/")) {
            out.append(b)
        } else {
            out.append(UInt8(ascii: "%"))
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0f)])
        }
    }

    /// Percent-decodes to bytes; nil when a `%` is not followed by two hex digits. With `plusAsSpace`, `+` means
    /// a space, as in HTML forms: that is how S3 servers (AWS and MinIO alike) read query strings, and SDKs
    /// never send a literal `+` there (they send `%2B`). In paths `+` is always itself.
    public static func decode(_ text: some StringProtocol, plusAsSpace: Bool) -> [UInt8]? {
        var out = [UInt8]()
        var iterator = text.utf8.makeIterator()
        while let b = iterator.next() {
            switch b {
            case UInt8(ascii: "%"):
                guard let hi = iterator.next().flatMap(Hex.value), let lo = iterator.next().flatMap(Hex.value) else {
                    return nil
                }
                out.append(hi << 4 | lo)
            case UInt8(ascii: "+") where plusAsSpace:
                out.append(UInt8(ascii: " "))
            default:
                out.append(b)
            }
        }
        return out
    }

    /// Percent-decodes to text, strictly: nil when a `%` is not followed by two hex digits or when
    /// the bytes are not valid UTF-8. What the front doors act on (S3 paths, keys, query values,
    /// `x-amz-copy-source`, admin path parameters): a name that does not decode is refused, never
    /// guessed at. Text without `%` (or `+`, with `plusAsSpace`) comes back as it is.
    public static func decodeUTF8(_ text: some StringProtocol, plusAsSpace: Bool) -> String? {
        let escaped = text.utf8.contains { $0 == UInt8(ascii: "%") || (plusAsSpace && $0 == UInt8(ascii: "+")) }
        guard escaped else { return String(text) }
        return decode(text, plusAsSpace: plusAsSpace).flatMap { String(validating: $0, as: UTF8.self) }
    }

    /// Decodes one query parameter name or value exactly as the canonical query reads it (`+` is a space).
    /// nil on a malformed escape. Invalid UTF-8 is replaced with U+FFFD, so compare bytes when that matters.
    public static func decodeQueryComponent(_ text: some StringProtocol) -> String? {
        decode(text, plusAsSpace: true).map { String(decoding: $0, as: UTF8.self) }
    }

    /// Builds a query string in canonical form from decoded parameters: each name and value encoded, pairs sorted
    /// by name then value, `name=` for an empty value. It is also a valid query string for the wire, which is how
    /// the tier client and the SQS sink should build their URLs and form bodies.
    public static func queryString(_ parameters: [SigV4Header]) -> String {
        canonicalQuery(parameters.map { QueryItem(name: Array($0.name.utf8), value: Array($0.value.utf8)) })
    }

    static func canonicalQuery(_ items: [QueryItem]) -> String {
        var out = [UInt8]()
        CanonicalBytes.appendQuery(items, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Splits a raw query string into decoded parameters, kept as bytes so that invalid UTF-8 re-encodes to exactly
    /// what the client sent. Empty pieces (`a=1&&b=2`, a trailing `&`) are skipped, as Go and MinIO do.
    static func parseQuery(_ rawQuery: String) -> [QueryItem]? {
        var items = [QueryItem]()
        for piece in rawQuery.utf8.split(separator: UInt8(ascii: "&"), omittingEmptySubsequences: true) {
            let text = Substring(piece)
            let name: Substring
            let value: Substring
            if let equals = text.firstIndex(of: "=") {
                name = text[..<equals]
                value = text[text.index(after: equals)...]
            } else {
                name = text
                value = ""
            }
            guard let decodedName = decode(name, plusAsSpace: true), let decodedValue = decode(value, plusAsSpace: true)
            else { return nil }
            items.append(QueryItem(name: decodedName, value: decodedValue))
        }
        return items
    }
}

/// One decoded query parameter, as bytes.
struct QueryItem: Sendable, Equatable {
    var name: [UInt8]
    var value: [UInt8]

    func hasName(_ expected: String) -> Bool { name.elementsEqual(expected.utf8) }
    var nameString: String { String(decoding: name, as: UTF8.self) }
    var valueString: String { String(decoding: value, as: UTF8.self) }
}
