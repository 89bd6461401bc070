import DepotHashing
import DepotS3
import DepotSigV4

/// `aws-chunked-signed`: random bytes almost never carry a valid HMAC, so the target signs the body
/// itself and lets the fuzzer choose the payload, the framing and one corrupted byte. Input:
///
///     byte 0: size of the pieces the body is fed in, minus 1
///     byte 1: bit 0 signed trailer; bit 1 corrupt one byte; bits 2-7 chunk size (at least 1/16 of
///             the payload; 63: the rest of the input is the raw body, decoded against the chain as it is)
///     bytes 2-3: where the corrupted byte is (little-endian, modulo the body's size); byte 4: its XOR mask
///     the rest: the payload
///
/// An intact body must decode to exactly the payload (and trailers); a corrupted one may only be
/// accepted if what it yields is still exactly what was signed.
enum SignedChunksTarget {
    static let scope = CredentialScope(date: "20130524", region: "us-east-1", service: "s3")
    static let signingKey = SigningKey(secretKey: "fuzz-secret-key", scope: scope)
    static let time = AmzDate(unixSeconds: 1_369_353_600)
    static let seedSignature = String(repeating: "4f", count: 32)

    static func chain() -> ChunkSignatureChain {
        ChunkSignatureChain(signingKey: signingKey, time: time, scope: scope, seedSignature: seedSignature)
    }

    static func run(_ input: [UInt8]) {
        guard input.count >= 5 else { return }
        let pieceSize = Int(input[0]) + 1
        let signedTrailer = input[1] & 1 != 0
        let corrupt = input[1] & 2 != 0
        let payload = Array(input.dropFirst(5))
        if input[1] >> 2 == 63 {
            _ = S3ParserFuzzEntryPoints.decodeSignedAwsChunked(
                payload, pieceSize: pieceSize, chain: chain(), signedTrailer: signedTrailer)
            return
        }
        // At most about 16 chunks: each costs two HMACs, and a run must stay fast to go deep.
        let chunkSize = max(Int(input[1] >> 2) * 37 + 1, payload.count / 16)
        let trailer: SigV4Header = (name: "x-amz-checksum-crc32", value: "len-\(payload.count)")
        var body = signedBody(payload, chunkSize: chunkSize, trailer: signedTrailer ? trailer : nil)
        if corrupt {
            let position = (Int(input[2]) | Int(input[3]) << 8) % body.count
            body[position] ^= input[4] == 0 ? 1 : input[4]
        }
        let result = S3ParserFuzzEntryPoints.decodeSignedAwsChunked(
            body, pieceSize: pieceSize, chain: chain(), signedTrailer: signedTrailer)
        guard let result else {
            precondition(corrupt, "an intact signed body of \(payload.count) bytes in chunks of \(chunkSize) was refused")
            return
        }
        precondition(result.decoded == payload, "a signed body decoded to other bytes than were signed")
        if signedTrailer {
            precondition(
                ChunkSignatureChain.canonicalTrailer(result.trailers) == ChunkSignatureChain.canonicalTrailer([trailer]),
                "a signed trailer decoded to other trailers than were signed")
        }
    }

    /// `size;chunk-signature=sig\r\n data \r\n` per chunk, the final `0;chunk-signature=sig`, then
    /// `\r\n` or the trailer and its `x-amz-trailer-signature`, as the SigV4 streaming spec frames them.
    static func signedBody(_ payload: [UInt8], chunkSize: Int, trailer: SigV4Header?) -> [UInt8] {
        var signer = chain()
        var body: [UInt8] = []
        var start = 0
        repeat {
            let chunk = Array(payload[start..<min(payload.count, start + chunkSize)])
            let signature = signer.signChunk(sha256OfChunk: DigestAlgorithm.sha256.hash(chunk))
            body += Array("\(String(chunk.count, radix: 16));chunk-signature=\(signature)\r\n".utf8)
            body += chunk
            if !chunk.isEmpty || trailer == nil { body += [13, 10] }
            start += chunk.count
            if chunk.isEmpty { break }
        } while true
        if let trailer {
            let canonical = ChunkSignatureChain.canonicalTrailer([trailer])
            let signature = signer.signTrailer(sha256OfTrailer: DigestAlgorithm.sha256.hash(canonical))
            body += Array("\(trailer.name):\(trailer.value)\r\nx-amz-trailer-signature:\(signature)\r\n\r\n".utf8)
        }
        return body
    }
}
