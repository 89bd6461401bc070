import DepotHashing
import HTTPTypes

/// User metadata (`x-amz-meta-*`) values outside US-ASCII, as S3 handles them: a value sent as RFC 2047
/// encoded-words (`=?UTF-8?B?Y2Fmw6k=?=`, `=?UTF-8?Q?caf=C3=A9?=`) is decoded before it is stored, and a stored
/// value that is not printable US-ASCII is returned RFC 2047 encoded (`=?UTF-8?B?…?=`), so that it survives HTTP
/// clients that read header bytes as ISO-8859-1 (Python's http.client, and so botocore) and can be decoded with
/// any mail library.
enum MetadataEncoding {
    /// The value of a request header as text: UTF-8 when its bytes are UTF-8, otherwise ISO-8859-1 (what
    /// Python and Go clients put on the wire for `é`), with RFC 2047 encoded-words decoded.
    static func storedValue(of field: HTTPField) -> String {
        let text = field.withUnsafeBytesOfValue { bytes in
            String(validating: bytes, as: UTF8.self)
                ?? String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        }
        return decodeEncodedWords(text)
    }

    /// The value to send in a response header: as stored when it is printable US-ASCII, else `=?UTF-8?B?…?=`.
    static func headerValue(_ stored: String) -> String {
        guard stored.utf8.contains(where: { $0 < 0x20 || $0 > 0x7e }) else { return stored }
        return "=?UTF-8?B?" + Base64.encode(Array(stored.utf8)) + "?="
    }

    /// Decodes every RFC 2047 encoded-word (UTF-8 or ISO-8859-1, B or Q encoding); white space between two
    /// adjacent encoded-words is dropped, as the RFC says. Anything malformed is kept as written.
    static func decodeEncodedWords(_ text: String) -> String {
        guard text.contains("=?") else { return text }
        var out = ""
        var rest = Substring(text)
        var pendingSpace = ""
        var lastWasEncoded = false
        while !rest.isEmpty {
            if rest.hasPrefix("=?"), let (decoded, after) = decodeWord(rest) {
                if !lastWasEncoded { out += pendingSpace }
                pendingSpace = ""
                out += decoded
                rest = after
                lastWasEncoded = true
                continue
            }
            let c = rest.removeFirst()
            if c == " " || c == "\t" {
                pendingSpace.append(c)
            } else {
                out += pendingSpace
                pendingSpace = ""
                out.append(c)
                lastWasEncoded = false
            }
        }
        return out + pendingSpace
    }

    /// `=?charset?enc?text?=` at the start of `text`: the decoded text and what follows.
    private static func decodeWord(_ text: Substring) -> (String, Substring)? {
        let body = text.dropFirst(2)
        let parts = body.split(separator: "?", maxSplits: 3, omittingEmptySubsequences: false)
        guard parts.count == 4, parts[3].hasPrefix("=") else { return nil }
        let charset = parts[0].lowercased()
        let encoding = parts[1].uppercased()
        let encoded = parts[2]
        var bytes: [UInt8]
        switch encoding {
        case "B":
            guard let decoded = Base64.decode(encoded) else { return nil }
            bytes = decoded
        case "Q":
            bytes = []
            var iterator = Array(encoded.utf8).makeIterator()
            while let c = iterator.next() {
                switch c {
                case UInt8(ascii: "_"): bytes.append(UInt8(ascii: " "))
                case UInt8(ascii: "="):
                    guard let hi = iterator.next(), let lo = iterator.next(),
                        let byte = Hex.decode(String(decoding: [hi, lo], as: UTF8.self))?.first
                    else { return nil }
                    bytes.append(byte)
                default: bytes.append(c)
                }
            }
        default:
            return nil
        }
        let decoded: String
        switch charset {
        case "utf-8", "utf8":
            guard let s = String(validating: bytes, as: UTF8.self) else { return nil }
            decoded = s
        case "iso-8859-1", "latin1", "us-ascii":
            decoded = String(String.UnicodeScalarView(bytes.map { Unicode.Scalar($0) }))
        default:
            return nil
        }
        return (decoded, parts[3].dropFirst())
    }
}
