import DepotHashing

/// The signature chain of an `aws-chunked` body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`).
///
/// Each chunk's signature signs the previous signature (the request's for the first chunk) and the SHA-256 of the
/// chunk's data, so chunks cannot be reordered, dropped or replayed. The chain takes the chunk's hash, not its
/// bytes, so the decoder can hash the data as it streams past and never hold a chunk in memory.
/// The chain moves forward only on success; after a failure the body must be refused.
public struct ChunkSignatureChain: Sendable {
    static let chunkAlgorithm = "AWS4-HMAC-SHA256-PAYLOAD"
    static let trailerAlgorithm = "AWS4-HMAC-SHA256-TRAILER"
    static let emptySHA256 = DigestAlgorithm.sha256.hash([UInt8]())
    static let emptySHA256Hex = Hex.encode(emptySHA256)

    private let signingKey: SigningKey
    private let prefix: String
    /// The last accepted signature, lower-case hex; the seed signature before the first chunk.
    public private(set) var previousSignature: String

    public init(signingKey: SigningKey, time: AmzDate, scope: CredentialScope, seedSignature: String) {
        self.signingKey = signingKey
        self.prefix = "\(time.iso8601Basic)\n\(scope)\n"
        self.previousSignature = Hex.decode(seedSignature).map { Hex.encode($0) } ?? seedSignature
    }

    /// Verifies the `chunk-signature` of a chunk whose data hashes to `sha256OfChunk`.
    public mutating func verifyChunk(sha256OfChunk: [UInt8], signature: String) -> Bool {
        advance(stringToSign: chunkStringToSign(sha256OfChunk), signature: signature)
    }

    /// Verifies the signature of the final, empty chunk (`0;chunk-signature=…`).
    public mutating func verifyFinalChunk(signature: String) -> Bool {
        verifyChunk(sha256OfChunk: Self.emptySHA256, signature: signature)
    }

    /// Verifies `x-amz-trailer-signature` over the trailing headers, whose canonical bytes
    /// (``canonicalTrailer(_:)``) hash to `sha256OfTrailer`.
    public mutating func verifyTrailer(sha256OfTrailer: [UInt8], signature: String) -> Bool {
        advance(stringToSign: trailerStringToSign(sha256OfTrailer), signature: signature)
    }

    /// Signs the next chunk (for a client sending `aws-chunked`) and moves the chain on.
    public mutating func signChunk(sha256OfChunk: [UInt8]) -> String {
        previousSignature = signingKey.signatureHex(chunkStringToSign(sha256OfChunk))
        return previousSignature
    }

    /// Signs the trailing headers and moves the chain on.
    public mutating func signTrailer(sha256OfTrailer: [UInt8]) -> String {
        previousSignature = signingKey.signatureHex(trailerStringToSign(sha256OfTrailer))
        return previousSignature
    }

    /// The bytes the trailer signature covers: `name:value\n` per trailing header, names in lower case, values
    /// trimmed, in the order sent, excluding `x-amz-trailer-signature` itself. (On the wire the lines end in CRLF.)
    public static func canonicalTrailer(_ fields: [SigV4Header]) -> [UInt8] {
        var out = [UInt8]()
        for field in fields {
            let name = CanonicalRequest.lowercased(field.name)
            guard name != "x-amz-trailer-signature" else { continue }
            out += Array(name.utf8) + [UInt8(ascii: ":")]
            out += Array(CanonicalRequest.trimmedHeaderValue(field.value).utf8) + [UInt8(ascii: "\n")]
        }
        return out
    }

    private func chunkStringToSign(_ sha256OfChunk: [UInt8]) -> String {
        "\(Self.chunkAlgorithm)\n\(prefix)\(previousSignature)\n\(Self.emptySHA256Hex)\n\(Hex.encode(sha256OfChunk))"
    }

    private func trailerStringToSign(_ sha256OfTrailer: [UInt8]) -> String {
        "\(Self.trailerAlgorithm)\n\(prefix)\(previousSignature)\n\(Hex.encode(sha256OfTrailer))"
    }

    private mutating func advance(stringToSign: String, signature: String) -> Bool {
        let expected = signingKey.sign(stringToSign)
        guard let provided = Hex.decode(signature), constantTimeEquals(provided, expected) else { return false }
        previousSignature = Hex.encode(expected)
        return true
    }
}
