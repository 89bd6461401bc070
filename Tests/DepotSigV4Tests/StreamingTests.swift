import DepotSigV4
import S3ReferenceExamples
import Testing

/// The chunked-upload examples of the S3 API reference: 65 KiB of `a` in chunks of 64 KiB, 1 KiB and 0 bytes,
/// without and with a signed CRC32C trailer.
struct StreamingTests {
    static let seed = ChunkedUploadExample.seed
    static let chunkSignatures = ChunkedUploadExample.chunkSignatures
    static let trailerSeed = ChunkedUploadExample.trailerSeed
    static let trailerChunkSignatures = ChunkedUploadExample.trailerChunkSignatures
    static let trailerSignature = ChunkedUploadExample.trailerSignature

    let chunk1 = Fixtures.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 65_536))
    let chunk2 = Fixtures.sha256([UInt8](repeating: UInt8(ascii: "a"), count: 1_024))
    let key = SigningKey(secretKey: Fixtures.s3Credentials.secretKey, scope: Fixtures.s3Scope)
    let time = AmzDate(unixSeconds: Fixtures.s3Time)

    static let seedRequest = SigV4Request(
        method: "PUT", rawPath: "/examplebucket/chunkObject.txt",
        headers: [
            ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
            ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
            (
                "Authorization",
                "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
                    + "content-encoding;content-length;host;x-amz-content-sha256;x-amz-date;"
                    + "x-amz-decoded-content-length;x-amz-storage-class,Signature=\(seed)"
            ),
            ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"), ("Content-Encoding", "aws-chunked"),
            ("x-amz-decoded-content-length", "66560"), ("Content-Length", "66824"),
        ])

    @Test func seedRequestVerifiesAndItsChunksChain() throws {
        let claim = try #require(try Fixtures.s3Verifier.claim(of: Self.seedRequest))
        #expect(claim.payload == .streamingSigned)
        let verified = try Fixtures.s3Verifier.verify(
            claim, secretKey: Fixtures.s3Credentials.secretKey, now: Fixtures.s3Time)
        var chain = verified.chunkSignatureChain()
        #expect(chain.previousSignature == Self.seed)
        #expect(chain.verifyChunk(sha256OfChunk: chunk1, signature: Self.chunkSignatures[0]) == true)
        #expect(chain.verifyChunk(sha256OfChunk: chunk2, signature: Self.chunkSignatures[1]) == true)
        #expect(chain.verifyFinalChunk(signature: Self.chunkSignatures[2]) == true)
        #expect(chain.previousSignature == Self.chunkSignatures[2])
    }

    @Test func chainRefusesReorderedTamperedOrForeignChunks() {
        var chain = ChunkSignatureChain(signingKey: key, time: time, scope: Fixtures.s3Scope, seedSignature: Self.seed)
        // A skipped chunk.
        #expect(chain.verifyChunk(sha256OfChunk: chunk2, signature: Self.chunkSignatures[1]) == false)
        #expect(chain.verifyChunk(sha256OfChunk: chunk2, signature: Self.chunkSignatures[0]) == false)  // other data
        #expect(chain.verifyChunk(sha256OfChunk: chunk1, signature: "not hex") == false)
        #expect(
            chain.verifyChunk(sha256OfChunk: chunk1, signature: String(Self.chunkSignatures[0].dropLast())) == false)
        #expect(chain.previousSignature == Self.seed)  // failures do not move the chain
        #expect(chain.verifyChunk(sha256OfChunk: chunk1, signature: Self.chunkSignatures[0].uppercased()) == true)
        #expect(chain.verifyChunk(sha256OfChunk: chunk1, signature: Self.chunkSignatures[0]) == false)  // replayed
        var otherKey = ChunkSignatureChain(
            signingKey: SigningKey(secretKey: "other", scope: Fixtures.s3Scope), time: time, scope: Fixtures.s3Scope,
            seedSignature: Self.seed)
        #expect(otherKey.verifyChunk(sha256OfChunk: chunk1, signature: Self.chunkSignatures[0]) == false)
    }

    @Test func signingProducesTheSameChain() {
        var chain = ChunkSignatureChain(signingKey: key, time: time, scope: Fixtures.s3Scope, seedSignature: Self.seed)
        #expect(chain.signChunk(sha256OfChunk: chunk1) == Self.chunkSignatures[0])
        #expect(chain.signChunk(sha256OfChunk: chunk2) == Self.chunkSignatures[1])
        #expect(chain.signChunk(sha256OfChunk: Fixtures.sha256([])) == Self.chunkSignatures[2])
    }

    @Test func trailerExample() {
        var chain = ChunkSignatureChain(
            signingKey: key, time: time, scope: Fixtures.s3Scope, seedSignature: Self.trailerSeed)
        #expect(chain.verifyChunk(sha256OfChunk: chunk1, signature: Self.trailerChunkSignatures[0]) == true)
        #expect(chain.verifyChunk(sha256OfChunk: chunk2, signature: Self.trailerChunkSignatures[1]) == true)
        #expect(chain.verifyFinalChunk(signature: Self.trailerChunkSignatures[2]) == true)
        let trailer = ChunkSignatureChain.canonicalTrailer([
            ("x-amz-checksum-crc32c", "sOO8/Q=="), ("x-amz-trailer-signature", Self.trailerSignature),
        ])
        #expect(trailer == Array("x-amz-checksum-crc32c:sOO8/Q==\n".utf8))
        #expect(
            Fixtures.hex(Fixtures.sha256(trailer)) == "1e376db7e1a34a8ef1c4bcee131a2d60a1cb62503747488624e10995f448d774"
        )
        var tampered = chain
        let otherTrailer = ChunkSignatureChain.canonicalTrailer([("x-amz-checksum-crc32c", "AAAAAA==")])
        #expect(
            tampered.verifyTrailer(sha256OfTrailer: Fixtures.sha256(otherTrailer), signature: Self.trailerSignature)
                == false)
        #expect(
            chain.verifyTrailer(sha256OfTrailer: Fixtures.sha256(trailer), signature: Self.trailerSignature) == true)
    }

    @Test func trailerSigningMatchesTheExample() {
        var chain = ChunkSignatureChain(
            signingKey: key, time: time, scope: Fixtures.s3Scope, seedSignature: Self.trailerChunkSignatures[2])
        let trailer = ChunkSignatureChain.canonicalTrailer([("X-Amz-Checksum-CRC32C", " sOO8/Q== ")])
        #expect(chain.signTrailer(sha256OfTrailer: Fixtures.sha256(trailer)) == Self.trailerSignature)
    }
}

extension StreamingTests {
    @Test func trailerSeedRequestVerifies() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/examplebucket/chunkObject.txt",
            headers: [
                ("Host", "s3.amazonaws.com"), ("x-amz-date", "20130524T000000Z"),
                ("x-amz-storage-class", "REDUCED_REDUNDANCY"),
                (
                    "Authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders="
                        + "content-encoding;host;x-amz-content-sha256;x-amz-date;x-amz-decoded-content-length;"
                        + "x-amz-storage-class;x-amz-trailer,Signature=\(Self.trailerSeed)"
                ),
                ("x-amz-content-sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"),
                ("Content-Encoding", "aws-chunked"), ("x-amz-decoded-content-length", "66560"),
                ("x-amz-trailer", "x-amz-checksum-crc32c"), ("Content-Length", "66824"),
            ])
        let claim = try #require(try Fixtures.s3Verifier.claim(of: request))
        #expect(claim.payload == .streamingSignedWithTrailer)
        let canonical = try Fixtures.s3Verifier.canonicalRequest(of: claim)
        #expect(
            canonical.stringToSign(time: claim.time, scope: claim.scope).hasSuffix(
                "44d48b8c2f70eae815a0198cc73d7a546a73a93359c070abbaa5e6c7de112559"))
        _ = try Fixtures.s3Verifier.verify(claim, secretKey: Fixtures.s3Credentials.secretKey, now: Fixtures.s3Time)
    }
}
