import TestRandomness
import Testing

@testable import DepotSigV4

/// The verifier's byte writer against a plain reference written from the SigV4 rules with Swift strings, over
/// generated requests: header names in mixed case, repeated headers, blanks and tabs to trim and fold, paths and
/// queries with escapes, reserved and non-ASCII bytes. Also: the Authorization header parser on mutated values
/// never traps, and what it accepts reads back the same.
struct CanonicalBytesReferenceTests {

    // MARK: - The reference, from the rules

    static func referenceEncode(_ bytes: [UInt8], keepSlash: Bool) -> String {
        let unreserved = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~".utf8)
        let hex = Array("0123456789ABCDEF")
        var out = ""
        for b in bytes {
            if unreserved.contains(b) || (keepSlash && b == UInt8(ascii: "/")) {
                out.append(Character(Unicode.Scalar(b)))
            } else {
                out += "%" + String(hex[Int(b >> 4)]) + String(hex[Int(b & 15)])
            }
        }
        return out
    }

    static func referenceDecode(_ text: Substring, plusAsSpace: Bool) -> [UInt8] {
        var out: [UInt8] = []
        let bytes = Array(text.utf8)
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "%") {
                out.append(UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                i += 3
            } else {
                out.append(plusAsSpace && bytes[i] == UInt8(ascii: "+") ? UInt8(ascii: " ") : bytes[i])
                i += 1
            }
        }
        return out
    }

    static func referenceCanonicalRequest(
        method: String, rawPath: String, rawQuery: String, headers: [SigV4Header], signedHeaders: [String],
        payloadHash: String
    ) -> String {
        let uri =
            rawPath.isEmpty ? "/" : referenceEncode(referenceDecode(Substring(rawPath), plusAsSpace: false), keepSlash: true)
        let pairs = rawQuery.split(separator: "&").map { piece -> (String, String) in
            let parts = piece.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = referenceEncode(referenceDecode(parts[0], plusAsSpace: true), keepSlash: false)
            let value =
                parts.count > 1 ? referenceEncode(referenceDecode(parts[1], plusAsSpace: true), keepSlash: false) : ""
            return (name, value)
        }
        let query = pairs.sorted {
            $0.0 != $1.0
                ? Array($0.0.utf8).lexicographicallyPrecedes(Array($1.0.utf8))
                : Array($0.1.utf8).lexicographicallyPrecedes(Array($1.1.utf8))
        }.map { $0.0 + "=" + $0.1 }.joined(separator: "&")
        var lines = ""
        for name in signedHeaders {
            let values = headers.filter { $0.name.lowercased() == name.lowercased() }.map { header in
                header.value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
            }
            lines += name.lowercased() + ":" + values.joined(separator: ",") + "\n"
        }
        return [method, uri, query, lines, signedHeaders.joined(separator: ";"), payloadHash].joined(separator: "\n")
    }

    // MARK: - Generated requests

    static let pathPieces = ["a", "B", "%2F", "%20", "+", "$", "é", "%C3%A9", "~", ".", "..", "", "x y", "%7e", "!*'()"]
    static let queryPieces = ["a", "B", "%2B", "+", "=", "%3D", "é", "~", "%7E", "x y", "list-type", "2"]
    static let headerNames = ["X-Amz-Meta-One", "x-amz-meta-two", "Content-Type", "Range", "X-Amz-Meta-Three"]
    static let valuePieces = ["v", "a b", " ", "  ", "\t", "\"q\"", "é", ",", "x\t\ty", ""]

    static func randomRequest(_ g: inout SplitMix64) -> (SigV4Request, [String]) {
        let path = "/" + (0..<g.below(6)).map { _ in g.pick(pathPieces) }.joined(separator: g.pick(["/", "", "//"]))
        let query = (0..<g.below(4)).map { _ in
            g.pick(queryPieces) + (g.below(3) == 0 ? "" : "=" + (0..<g.below(3)).map { _ in g.pick(queryPieces) }.joined())
        }.joined(separator: "&")
        var headers: [SigV4Header] = [("Host", "h.local:9000")]
        for _ in 0..<g.below(7) {
            let name = g.pick(headerNames)
            let cased = g.below(2) == 0 ? name : name.uppercased()
            headers.append((cased, (0..<g.below(5)).map { _ in g.pick(valuePieces) }.joined()))
        }
        let names = Set(headers.map { $0.name.lowercased() })
        let signed = Set(names.sorted().filter { _ in g.below(4) != 0 }).union(["host"]).sorted()
        return (SigV4Request(method: g.pick(["GET", "PUT", "HEAD"]), rawPath: path, rawQuery: query, headers: headers), signed)
    }

    @Test func byteWriterMatchesTheReference() throws {
        var g = SplitMix64(seed: 0x5EED)
        let verifier = Fixtures.s3Verifier
        for _ in 0..<2_000 {
            let (generated, signed) = Self.randomRequest(&g)
            var request = generated
            let authorization =
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=\(signed.joined(separator: ";")), Signature=" + String(repeating: "ab", count: 32)
            request.headers += [
                ("x-amz-date", "20130524T000000Z"), ("x-amz-content-sha256", PayloadHash.unsignedValue),
                ("Authorization", authorization),
            ]
            let claim = try #require(try verifier.claim(of: request))
            var bytes = [UInt8]()
            try verifier.appendCanonicalRequest(of: claim, to: &bytes)
            let expected = Self.referenceCanonicalRequest(
                method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers,
                signedHeaders: signed, payloadHash: PayloadHash.unsignedValue)
            #expect(String(decoding: bytes, as: UTF8.self) == expected, "\(request.rawPath) ? \(request.rawQuery)")
        }
    }

    @Test func authorizationParserSurvivesMutations() {
        var g = SplitMix64(seed: 0xA11CE)
        let valid = Array(
            ("AWS4-HMAC-SHA256 Credential=AK/with/slash/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=host;x-amz-date, Signature=" + String(repeating: "0f", count: 32)).utf8)
        let inserts = Array(" ,=;/\t\u{0}aZ9".utf8) + [0xC3, 0xA9]
        for _ in 0..<5_000 {
            var bytes = valid
            for _ in 0..<(1 + g.below(4)) {
                let at = g.below(bytes.count)
                switch g.below(3) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(g.pick(inserts), at: at)
                default: bytes[at] = g.pick(inserts)
                }
                if bytes.isEmpty { bytes = [UInt8(ascii: " ")] }
            }
            let text = String(decoding: bytes, as: UTF8.self)
            if let header = try? AuthorizationHeader(parsing: text) {
                #expect((try? AuthorizationHeader(parsing: header.value)) == header, "\(text)")
            }
        }
    }
}
