import DepotSigV4

/// Public doors to DepotS3's internal body parsers for the libFuzzer targets in Fuzz/, which build in
/// release without `-enable-testing` and so cannot `@testable import` this module.
public enum S3ParserFuzzEntryPoints {
    /// Decodes an unsigned `aws-chunked` body handed over in pieces of `pieceSize` bytes (as the HTTP
    /// layer streams it), so chunk boundaries fall anywhere. Returns the decoded byte count, or nil when
    /// the body is refused (the proper answer to bad input).
    public static func decodeAwsChunked(_ body: [UInt8], pieceSize: Int) -> UInt64? {
        var decoder = AwsChunkedDecoder(chain: nil, signedTrailer: false)
        var delivered: UInt64 = 0
        do {
            try feedInPieces(body, pieceSize: pieceSize) { piece in
                try decoder.feed(piece) { delivered += UInt64($0.count) }
            }
            try decoder.finish()
        } catch {
            return nil
        }
        // What reached the sink is what the decoder counted: the stored object's size depends on it.
        precondition(
            delivered == decoder.decodedCount, "aws-chunked: \(delivered) bytes delivered, \(decoder.decodedCount) counted")
        return delivered
    }

    /// Decodes a signed `aws-chunked` body (`STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]`), each chunk's
    /// signature checked in `chain`, fed in pieces of `pieceSize` bytes. Returns the decoded bytes and
    /// the trailers, or nil when the body is refused.
    public static func decodeSignedAwsChunked(
        _ body: [UInt8], pieceSize: Int, chain: ChunkSignatureChain, signedTrailer: Bool
    ) -> (decoded: [UInt8], trailers: [SigV4Header])? {
        var decoder = AwsChunkedDecoder(chain: chain, signedTrailer: signedTrailer)
        var decoded: [UInt8] = []
        do {
            try feedInPieces(body, pieceSize: pieceSize) { piece in
                try decoder.feed(piece) { decoded += $0 }
            }
            try decoder.finish()
        } catch {
            return nil
        }
        return (decoded, decoder.trailers.map { (name: $0.name, value: $0.value) })
    }

    /// One event of the browser form (`multipart/form-data`) reader, file bytes joined.
    public enum FormEvent: Equatable, Sendable {
        case field(name: String, value: String)
        case file(name: String, filename: String, contentType: String?, bytes: [UInt8])
    }

    /// Reads a `multipart/form-data` body (S3 POST Object) fed in pieces of `pieceSize` bytes; returns
    /// its fields and files in order and whether the closing boundary came, or nil when the
    /// Content-Type is not a form or the body is refused.
    public static func readForm(contentType: String, body: [UInt8], pieceSize: Int) -> (
        events: [FormEvent], complete: Bool
    )? {
        guard var reader = FormDataReader(contentType: contentType) else { return nil }
        var events: [FormEvent] = []
        do {
            try feedInPieces(body, pieceSize: pieceSize) { piece in
                try reader.feed(piece) { event in
                    switch event {
                    case .field(let name, let value): events.append(.field(name: name, value: value))
                    case .fileStart(let name, let filename, let type):
                        events.append(.file(name: name, filename: filename, contentType: type, bytes: []))
                    case .fileData(let data):
                        guard case .file(let name, let filename, let type, let bytes) = events.last else {
                            preconditionFailure("form file data outside a file part")
                        }
                        events[events.count - 1] = .file(
                            name: name, filename: filename, contentType: type, bytes: bytes + data)
                    case .fileEnd: break
                    }
                }
            }
        } catch {
            return nil
        }
        return (events, reader.isDone)
    }

    /// Decodes a form upload's Base64 policy document and checks it against `fields` (names in any
    /// case) for `bucket` at Unix time `now`; returns the object key, or nil when the form is refused.
    public static func evaluatePostPolicy(
        base64 encoded: String, fields: [(String, String)], bucket: String, filename: String, now: Int64
    ) -> String? {
        var lowered: [String: String] = [:]
        for (name, value) in fields { lowered[name.lowercased()] = value }
        guard let document = try? PostPolicyDocument(base64: encoded),
            let (key, policy) = try? document.evaluate(
                fields: lowered, bucket: bucket, filename: filename, fileContentType: nil, now: now)
        else { return nil }
        // What the upload is then held to must be coherent: a status S3 answers and a key.
        precondition([200, 201, 204].contains(policy.successStatus) && !key.isEmpty)
        return key
    }

    /// Hands `body` to `feed` in pieces of `pieceSize` bytes (at least one), as the HTTP layer
    /// streams it, so the parsers meet boundaries anywhere.
    private static func feedInPieces(
        _ body: [UInt8], pieceSize: Int, _ feed: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        let step = max(1, pieceSize)
        try body.withUnsafeBytes { all in
            var start = 0
            while start < all.count {
                let end = min(all.count, start + step)
                try feed(UnsafeRawBufferPointer(rebasing: all[start..<end]))
                start = end
            }
        }
    }

    /// Parses an S3 XML request body (CompleteMultipartUpload, Delete, tagging…); true when accepted.
    public static func parseXML(_ bytes: [UInt8]) -> Bool {
        (try? XMLElement.parse(bytes)) != nil
    }
}
