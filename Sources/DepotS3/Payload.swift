import DepotEngine
import DepotHashing
import DepotObjectBody
import DepotSigV4
import HummingbirdCore
import NIOCore

/// Keeps a network buffer's bytes alive and unchanged (ByteBuffer is copy-on-write: NIO reads the
/// next bytes into a new buffer while this one is referenced) until the chunk they belong to is
/// written.
final class RetainedBuffer {
    let buffer: ByteBuffer
    init(_ buffer: ByteBuffer) { self.buffer = buffer }
}

/// Reads a request body the way its SigV4 payload mode says: plain bytes checked against a hex
/// SHA-256 (or not checked, for UNSIGNED-PAYLOAD), or `aws-chunked` framing with chunk
/// signatures and trailers. Either way the declared length is enforced, and the decoded bytes go
/// to `sink` as they arrive.
final class PayloadReader {
    private let declaredLength: UInt64
    private let expectedSHA256: [UInt8]?
    private var decoder: AwsChunkedDecoder?
    private(set) var trailers: [(name: String, value: String)] = []

    init(_ c: S3Context, declaredLength: UInt64) throws {
        self.declaredLength = declaredLength
        switch c.auth.payload {
        case .sha256(let bytes):
            expectedSHA256 = bytes
        case .unsigned:
            expectedSHA256 = nil
        case .streamingSigned:
            expectedSHA256 = nil
            decoder = AwsChunkedDecoder(chain: try c.auth.chunkSignatureChain(), signedTrailer: false)
        case .streamingSignedWithTrailer:
            expectedSHA256 = nil
            decoder = AwsChunkedDecoder(chain: try c.auth.chunkSignatureChain(), signedTrailer: true)
        case .streamingUnsignedWithTrailer:
            expectedSHA256 = nil
            decoder = AwsChunkedDecoder(chain: nil, signedTrailer: false)
        }
        if decoder != nil, c.request.header("x-amz-decoded-content-length") == nil {
            throw S3Error("MissingContentLength", .lengthRequired, "aws-chunked uploads must send x-amz-decoded-content-length.")
        }
    }

    /// `sink` receives the decoded bytes and a function returning an owner that keeps them valid
    /// (the network buffer they are in), so that they can be written without a copy.
    func read(
        _ body: RequestBody, _ sink: (UnsafeRawBufferPointer, @escaping () -> AnyObject) throws -> Void
    ) async throws {
        let digest = expectedSHA256 == nil ? nil : StreamingDigest(.sha256)
        var received: UInt64 = 0
        let limit = declaredLength
        do {
            for try await buffer in body {
                let owner = { RetainedBuffer(buffer) as AnyObject }
                try buffer.withUnsafeReadableBytes { bytes in
                    if decoder != nil {
                        try decoder!.feed(bytes) { decoded in
                            received += UInt64(decoded.count)
                            guard received <= limit else {
                                throw AwsChunkedDecoder.malformed("more data than x-amz-decoded-content-length")
                            }
                            try sink(decoded, owner)
                        }
                    } else {
                        received += UInt64(bytes.count)
                        guard received <= limit else { throw S3Error.incompleteBody() }
                        digest?.update(bytes)
                        try sink(bytes, owner)
                    }
                }
            }
        } catch  where CutOffBody.isCutOff(error) {
            throw S3Error.incompleteBody(received: received, declared: declaredLength)
        }
        if let decoder {
            try decoder.finish()
            trailers = decoder.trailers
        }
        guard received == declaredLength else {
            throw S3Error.incompleteBody(received: received, declared: declaredLength)
        }
        if let digest, digest.finalize() != expectedSHA256 { throw S3Error.contentSHA256Mismatch() }
    }
}

extension S3Service {
    /// Streams a PUT or UploadPart body into an upload session: the payload mode's framing and
    /// signatures, the declared checksums (in headers or trailers) and Content-MD5, all checked
    /// as the bytes pass. (`100 Continue` goes out as the first byte is read: ContinueOnFirstRead.)
    func receive(
        _ c: S3Context, body: RequestBody, length: UInt64, into session: IngestSession, checksums: inout DeclaredChecksums,
        contentMD5: [UInt8]?
    ) async throws {
        let payload = try PayloadReader(c, declaredLength: length)
        let running = checksums
        try await payload.read(body) { bytes, owner in
            try session.write(bytes, owner: owner)
            running.update(bytes)
        }
        try checksums.acceptTrailers(payload.trailers)
        let md5 = try session.finishStream()
        if let contentMD5, contentMD5 != md5 { throw S3Error.badDigest() }
    }
}
