import DepotHashing
import DepotSigV4
import S3ReferenceExamples
import Testing

@testable import DepotS3

/// The `aws-chunked` body decoder, fed the S3 API reference's examples (65 KiB of `a` in chunks
/// of 64 KiB, 1 KiB and 0 bytes, without and with a signed CRC32C trailer) in every kind of
/// buffer split, and broken ones.
struct AwsChunkedDecoderTests {
    static let seed = ChunkedUploadExample.seed
    static let signatures = ChunkedUploadExample.chunkSignatures
    static let trailerSeed = ChunkedUploadExample.trailerSeed
    static let trailerChunkSignatures = ChunkedUploadExample.trailerChunkSignatures
    static let trailerSignature = ChunkedUploadExample.trailerSignature
    static let scope = CredentialScope(date: "20130524", region: "us-east-1", service: "s3")

    static func chain(seed: String) -> ChunkSignatureChain {
        ChunkSignatureChain(
            signingKey: SigningKey(secretKey: ChunkedUploadExample.secretKey, scope: scope),
            time: AmzDate(unixSeconds: ChunkedUploadExample.unixSeconds), scope: scope, seedSignature: seed)
    }

    static let big = [UInt8](repeating: UInt8(ascii: "a"), count: 65_536)
    static let small = [UInt8](repeating: UInt8(ascii: "a"), count: 1_024)

    static func body(signatures: [String], trailer: String = "") -> [UInt8] {
        Array("10000;chunk-signature=\(signatures[0])\r\n".utf8) + big + Array("\r\n".utf8)
            + Array("400;chunk-signature=\(signatures[1])\r\n".utf8) + small + Array("\r\n".utf8)
            + Array("0;chunk-signature=\(signatures[2])\r\n".utf8) + Array(trailer.utf8) + Array("\r\n".utf8)
    }

    static let signedTrailer =
        "x-amz-checksum-crc32c:sOO8/Q==\r\nx-amz-trailer-signature:\(trailerSignature)\r\n"

    struct Decoded {
        var bytes: [UInt8] = []
        var trailers: [(name: String, value: String)] = []
    }

    /// Feeds `body` in pieces of `piece` bytes, then ends it; the decoded bytes and trailers.
    func decode(
        _ body: [UInt8], piece: Int = .max, chain: ChunkSignatureChain? = nil, signedTrailer: Bool = false,
        finish: Bool = true
    ) throws -> Decoded {
        var decoder = AwsChunkedDecoder(chain: chain, signedTrailer: signedTrailer)
        var out = Decoded()
        var offset = 0
        while offset < body.count {
            let end = offset + min(piece, body.count - offset)
            try body[offset..<end].withUnsafeBytes { buffer in
                try decoder.feed(buffer) { out.bytes.append(contentsOf: $0) }
            }
            offset = end
        }
        if finish { try decoder.finish() }
        out.trailers = decoder.trailers
        return out
    }

    /// The S3 error code `body` throws, or nil.
    func refusal(_ body: () throws -> Void) -> String? {
        do {
            try body()
            return nil
        } catch let error as S3Error {
            return error.code
        } catch {
            return "\(error)"
        }
    }

    @Test func signedExampleDecodesWhateverTheBufferSplits() throws {
        let body = Self.body(signatures: Self.signatures)
        // 1 byte at a time splits every header line, CRLF and chunk; the others split chunk data
        // and header lines at odd places; 65 537 ends a buffer inside the first chunk's CRLF.
        for piece in [1, 2, 3, 7, 100, 4096, 65_537, 65_600, .max] {
            let decoded = try decode(body, piece: piece, chain: Self.chain(seed: Self.seed))
            #expect(decoded.bytes == Self.big + Self.small, "piece \(piece)")
            #expect(decoded.trailers.isEmpty)
        }
    }

    @Test func signedTrailerWithChecksumIsCheckedAndKept() throws {
        let body = Self.body(signatures: Self.trailerChunkSignatures, trailer: Self.signedTrailer)
        for piece in [1, 5, 1000, .max] {
            let decoded = try decode(body, piece: piece, chain: Self.chain(seed: Self.trailerSeed), signedTrailer: true)
            #expect(decoded.bytes.count == 66_560)
            #expect(decoded.trailers.map(\.name) == ["x-amz-checksum-crc32c"])
            #expect(decoded.trailers.map(\.value) == ["sOO8/Q=="])
        }
    }

    @Test func aTamperedOrMissingTrailerSignatureIsRefused() {
        let tampered = Self.body(
            signatures: Self.trailerChunkSignatures,
            trailer: Self.signedTrailer.replacingOccurrences(of: "sOO8/Q==", with: "AAAAAA=="))
        #expect(
            refusal { _ = try decode(tampered, chain: Self.chain(seed: Self.trailerSeed), signedTrailer: true) }
                == "SignatureDoesNotMatch")
        let unsigned = Self.body(signatures: Self.trailerChunkSignatures, trailer: "x-amz-checksum-crc32c:sOO8/Q==\r\n")
        #expect(
            refusal { _ = try decode(unsigned, chain: Self.chain(seed: Self.trailerSeed), signedTrailer: true) }
                == "SignatureDoesNotMatch")
    }

    @Test func aBadChunkSignatureIsRefused() {
        var wrong = Self.signatures
        wrong[1] = String(wrong[1].dropLast()) + "0"
        #expect(
            refusal { _ = try decode(Self.body(signatures: wrong), chain: Self.chain(seed: Self.seed)) }
                == "SignatureDoesNotMatch")
        // The right signatures over other data.
        var body = Self.body(signatures: Self.signatures)
        body[200] = UInt8(ascii: "b")
        #expect(refusal { _ = try decode(body, chain: Self.chain(seed: Self.seed)) } == "SignatureDoesNotMatch")
        // A chunk without its signature, in a signed stream.
        let bare = Array("5\r\nhello\r\n0\r\n\r\n".utf8)
        #expect(refusal { _ = try decode(bare, chain: Self.chain(seed: Self.seed)) } == "SignatureDoesNotMatch")
        // Signatures from another request's chain.
        #expect(
            refusal { _ = try decode(Self.body(signatures: Self.trailerChunkSignatures), chain: Self.chain(seed: Self.seed)) }
                == "SignatureDoesNotMatch")
    }

    @Test func unsignedChunksWithATrailer() throws {
        let body = Array("5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nx-amz-checksum-crc32:DUoRhQ==\r\n\r\n".utf8)
        for piece in [1, 4, .max] {
            let decoded = try decode(body, piece: piece)
            #expect(String(decoding: decoded.bytes, as: UTF8.self) == "hello world")
            #expect(decoded.trailers.map(\.name) == ["x-amz-checksum-crc32"])
            #expect(decoded.trailers.map(\.value) == ["DUoRhQ=="])
        }
    }

    @Test func aTruncatedStreamIsIncomplete() {
        let body = Self.body(signatures: Self.signatures)
        for cut in [0, 10, 1000, 65_560, body.count - 3, body.count - 1] {
            #expect(
                refusal { _ = try decode(Array(body.prefix(cut)), chain: Self.chain(seed: Self.seed)) } == "IncompleteBody",
                "cut at \(cut)")
        }
        let unsigned = Array("5\r\nhello\r\n0\r\n".utf8)  // no final CRLF after the last chunk
        #expect(refusal { _ = try decode(unsigned) } == "IncompleteBody")
    }

    @Test func chunkSizeLinesMustBeHexAndBounded() {
        let long = Array(String(repeating: "0", count: AwsChunkedDecoder.maxLine + 1).utf8) + Array("5\r\nhello\r\n".utf8)
        #expect(refusal { _ = try decode(long) } == "InvalidRequest")
        for line in ["", "g", "+5", "-0", "0x5", " ", "5 5", "10000000000000000", "FFFFFFFFFFFFFFFF"] {
            let body = Array("\(line)\r\nhello\r\n0\r\n\r\n".utf8)
            #expect(refusal { _ = try decode(body) } == "InvalidRequest", "size line '\(line)'")
        }
        // Upper-case hex and spaces around it are fine.
        #expect(refusal { _ = try decode(Array(" A \r\n0123456789\r\n0\r\n\r\n".utf8)) } == nil)
    }

    @Test func framingErrors() {
        // Data longer than its declared size.
        #expect(refusal { _ = try decode(Array("3\r\nabcd\r\n0\r\n\r\n".utf8)) } == "InvalidRequest")
        // Bytes after the end.
        #expect(refusal { _ = try decode(Array("0\r\n\r\nextra".utf8)) } == "InvalidRequest")
        // A trailer line without a colon.
        #expect(refusal { _ = try decode(Array("0\r\nnot a header\r\n\r\n".utf8)) } == "InvalidRequest")
    }

    @Test func trailersAreBoundedInNumber() {
        // Each trailer line was bounded, their number was not: a client could grow the list forever.
        let lines = (0..<10_000).map { "x-amz-meta-\($0):v\r\n" }.joined()
        #expect(refusal { _ = try decode(Array("0\r\n\(lines)\r\n".utf8)) } == "InvalidRequest")
        let few = (0..<AwsChunkedDecoder.maxTrailers).map { "x-amz-meta-\($0):v\r\n" }.joined()
        #expect(refusal { _ = try decode(Array("0\r\n\(few)\r\n".utf8)) } == nil)
    }
}
