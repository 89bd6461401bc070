import DepotHashing
import DepotSigV4

/// Renders signed S3 request heads into reused bytes, one renderer per load stream. SigV4 with
/// `UNSIGNED-PAYLOAD` (the client hashes no body bytes), the derived signing key from Depot's
/// ``SigningKeyCache`` (looked up once a day), the time stamp formatted once a second; per request
/// it writes the canonical request, hashes it, and HMACs the string to sign, in bytes, with no
/// header dictionaries or Foundation in between. ``selfCheck`` compares its signatures with
/// DepotSigV4's ``SigV4Signer``.
struct S3RequestRenderer {
    static let region = "us-east-1"
    let accessKey: String
    let secretKey: String
    /// `host[:port]` as sent and signed.
    let host: String
    private var second = Int.min
    private var amzDate: [UInt8] = []
    private var day = ""
    private var scope: [UInt8] = []
    private var key: SigningKey?
    private var canonical: [UInt8] = []
    private var toSign: [UInt8] = []
    /// The last rendered head.
    private(set) var head: [UInt8] = []

    init(accessKey: String, secretKey: String, host: String) {
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.host = host
        canonical.reserveCapacity(512)
        toSign.reserveCapacity(256)
        head.reserveCapacity(1024)
    }

    /// A header that the request sends and signs besides `host` and the `x-amz-` ones; names lower-case.
    typealias Header = (name: String, value: String)

    /// Renders `method path[?query]` with `headers` (sorted by name, none of them `host` or `x-amz-*`).
    /// `path` and `query` must already be in canonical form (unreserved bytes, `/`, `%XX`; query
    /// parameters sorted), as the load's own paths are.
    mutating func render(method: String, path: String, query: String = "", headers: [Header], time: Int) {
        setTime(time)
        let payload = PayloadHash.unsignedValue
        // The canonical request: headers sorted by name, host among them.
        canonical.removeAll(keepingCapacity: true)
        canonical += method.utf8
        canonical.append(10)
        canonical += path.utf8
        canonical.append(10)
        canonical += query.utf8
        canonical.append(10)
        var hostWritten = false
        func writeHost() {
            canonical += "host:".utf8
            canonical += host.utf8
            canonical.append(10)
            hostWritten = true
        }
        for header in headers {
            if !hostWritten, header.name > "host" { writeHost() }
            canonical += header.name.utf8
            canonical.append(UInt8(ascii: ":"))
            canonical += header.value.utf8
            canonical.append(10)
        }
        if !hostWritten { writeHost() }
        canonical += "x-amz-content-sha256:".utf8
        canonical += payload.utf8
        canonical += "\nx-amz-date:".utf8
        canonical += amzDate
        canonical += "\n\n".utf8
        let signedStart = canonical.count
        var wroteHostName = false
        for header in headers {
            if !wroteHostName, header.name > "host" {
                canonical += "host;".utf8
                wroteHostName = true
            }
            canonical += header.name.utf8
            canonical.append(UInt8(ascii: ";"))
        }
        if !wroteHostName { canonical += "host;".utf8 }
        canonical += "x-amz-content-sha256;x-amz-date".utf8
        let signedEnd = canonical.count
        canonical.append(10)
        canonical += payload.utf8
        let digest = canonical.withUnsafeBytes { DigestAlgorithm.sha256.hash($0) }
        // The string to sign.
        toSign.removeAll(keepingCapacity: true)
        toSign += "AWS4-HMAC-SHA256\n".utf8
        toSign += amzDate
        toSign.append(10)
        toSign += scope
        toSign.append(10)
        Self.appendHex(digest, to: &toSign)
        let signature = toSign.withUnsafeBytes { HMAC.sha256(key: key!.bytes, message: $0) }
        // The head as sent.
        head.removeAll(keepingCapacity: true)
        head += method.utf8
        head.append(32)
        head += path.utf8
        if !query.isEmpty {
            head.append(UInt8(ascii: "?"))
            head += query.utf8
        }
        head += " HTTP/1.1\r\nhost: ".utf8
        head += host.utf8
        for header in headers {
            head += "\r\n".utf8
            head += header.name.utf8
            head += ": ".utf8
            head += header.value.utf8
        }
        head += "\r\nx-amz-content-sha256: ".utf8
        head += payload.utf8
        head += "\r\nx-amz-date: ".utf8
        head += amzDate
        head += "\r\nauthorization: AWS4-HMAC-SHA256 Credential=".utf8
        head += accessKey.utf8
        head.append(UInt8(ascii: "/"))
        head += scope
        head += ", SignedHeaders=".utf8
        head += canonical[signedStart..<signedEnd]
        head += ", Signature=".utf8
        Self.appendHex(signature, to: &head)
        head += "\r\n\r\n".utf8
    }

    private mutating func setTime(_ time: Int) {
        guard time != second else { return }
        second = time
        let date = AmzDate(unixSeconds: time)
        amzDate = Array(date.iso8601Basic.utf8)
        let stamp = date.dateStamp
        guard stamp != day else { return }
        day = stamp
        let credentialScope = CredentialScope(date: stamp, region: Self.region, service: "s3")
        scope = Array(credentialScope.description.utf8)
        key = SigningKeyCache.shared.key(secretKey: secretKey, scope: credentialScope)
    }

    private static func appendHex(_ bytes: [UInt8], to out: inout [UInt8]) {
        let digits: StaticString = "0123456789abcdef"
        let table = digits.utf8Start
        for byte in bytes {
            out.append(table[Int(byte >> 4)])
            out.append(table[Int(byte & 15)])
        }
    }

    /// Whether a path or query needs no further encoding to be canonical (the renderer sends and
    /// signs it as given).
    static func isCanonical(_ text: String) -> Bool {
        text.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"):
                return true
            default: return "-._~/%=&".utf8.contains(byte)
            }
        }
    }

    /// Renders a GET, a PUT and a ranged GET at a fixed time and compares their Authorization
    /// values with DepotSigV4's signer: a cheap guard that the fast path signs what Depot verifies.
    static func selfCheck(accessKey: String, secretKey: String, host: String, path: String) throws {
        let time = 1_765_000_000
        let signer = SigV4Signer(
            credentials: SigV4Credentials(accessKey: accessKey, secretKey: secretKey), region: region, service: "s3")
        var renderer = S3RequestRenderer(accessKey: accessKey, secretKey: secretKey, host: host)
        let cases: [(String, String, [Header])] = [
            ("GET", "", []), ("PUT", "", [("content-length", "4096")]), ("GET", "", [("range", "bytes=0-99")]),
            ("GET", "list-type=2&max-keys=1000&prefix=a%2Fb", []),
        ]
        for (method, query, headers) in cases {
            renderer.render(method: method, path: path, query: query, headers: headers, time: time)
            let all: [SigV4Header] = [("host", host)] + headers.map { ($0.name, $0.value) }
            let expected = try signer.sign(
                SigV4Request(method: method, rawPath: path, rawQuery: query, headers: all),
                payloadHash: PayloadHash.unsignedValue, time: time
            ).first { $0.name == "authorization" }?.value
            let rendered = String(decoding: renderer.head, as: UTF8.self)
            guard let expected, rendered.contains("\r\nauthorization: \(expected)\r\n") else {
                throw LoadError("self-check: the fast signer disagrees with SigV4Signer on \(method) \(path)?\(query)")
            }
        }
    }
}
