import DepotHashing
import DepotSigV4
import Testing

@testable import DepotS3

/// The `aws-chunked-signed` fuzz target's invariant, exhaustively on one small body: a body the
/// chain signed decodes to exactly its payload in any cut, and no single corrupted byte anywhere
/// (size lines, signatures, data, trailer, framing) makes it yield other bytes or other trailers.
struct SignedChunkCorruptionTests {
    static let scope = CredentialScope(date: "20130524", region: "us-east-1", service: "s3")
    static let key = SigningKey(secretKey: "corruption-test-secret", scope: scope)

    static func chain() -> ChunkSignatureChain {
        ChunkSignatureChain(
            signingKey: key, time: AmzDate(unixSeconds: 1_369_353_600), scope: scope,
            seedSignature: String(repeating: "4f", count: 32))
    }

    static let payload = Array("signed chunks, one byte at a time".utf8)
    static let trailer: SigV4Header = (name: "x-amz-checksum-crc32", value: "AAAAAA==")

    static let body: [UInt8] = {
        var signer = chain()
        var body: [UInt8] = []
        for chunk in [Array(payload[..<20]), Array(payload[20...]), []] {
            let signature = signer.signChunk(sha256OfChunk: DigestAlgorithm.sha256.hash(chunk))
            body += Array("\(String(chunk.count, radix: 16));chunk-signature=\(signature)\r\n".utf8) + chunk
            if !chunk.isEmpty { body += Array("\r\n".utf8) }
        }
        let signature = signer.signTrailer(
            sha256OfTrailer: DigestAlgorithm.sha256.hash(ChunkSignatureChain.canonicalTrailer([trailer])))
        return body + Array("\(trailer.name):\(trailer.value)\r\nx-amz-trailer-signature:\(signature)\r\n\r\n".utf8)
    }()

    static func decode(_ body: [UInt8], pieceSize: Int) -> (decoded: [UInt8], trailers: [SigV4Header])? {
        S3ParserFuzzEntryPoints.decodeSignedAwsChunked(body, pieceSize: pieceSize, chain: chain(), signedTrailer: true)
    }

    @Test func theIntactBodyDecodesInEveryCut() throws {
        for piece in 1...Self.body.count {
            let result = try #require(Self.decode(Self.body, pieceSize: piece), "pieces of \(piece)")
            #expect(result.decoded == Self.payload)
            #expect(result.trailers.map(\.value) == [Self.trailer.value])
        }
    }

    @Test(arguments: [UInt8(0x01), 0x20, 0x80])
    func noSingleCorruptedByteYieldsOtherBytes(mask: UInt8) {
        for position in Self.body.indices {
            var corrupted = Self.body
            corrupted[position] ^= mask
            guard let result = Self.decode(corrupted, pieceSize: 7) else { continue }
            // Accepted only if it still means what was signed (a hex digit's case, say).
            #expect(result.decoded == Self.payload, "byte \(position) ^ \(mask)")
            #expect(
                ChunkSignatureChain.canonicalTrailer(result.trailers) == ChunkSignatureChain.canonicalTrailer([Self.trailer]),
                "byte \(position) ^ \(mask)")
        }
    }
}
