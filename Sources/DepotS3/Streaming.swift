import DepotHashing
import DepotSigV4

/// Decodes an `aws-chunked` request body as it streams, in either HTTP framing (Content-Length
/// or `Transfer-Encoding: chunked`; the HTTP layer has removed the latter already):
///
///     hex-size[;chunk-signature=sig]\r\n <data> \r\n ... 0[;chunk-signature=sig]\r\n [trailers \r\n] \r\n
///
/// Decoded bytes go to `sink` as they arrive; no chunk is buffered whole. With a signed payload,
/// each chunk's signature is checked against the chain seeded by the request signature, using a
/// SHA-256 computed while the chunk streams; the trailer signature likewise.
struct AwsChunkedDecoder {
    private enum State {
        case header
        case data(remaining: Int)
        case dataEnd
        case trailer
        case done
    }

    private var state = State.header
    private var line: [UInt8] = []
    private var chain: ChunkSignatureChain?
    private var pendingSignature = ""
    private let chunkHash = StreamingDigest(.sha256)
    private(set) var trailers: [(name: String, value: String)] = []
    private var trailerSignature: String?
    private(set) var decodedCount: UInt64 = 0
    private let signedTrailer: Bool

    static let maxLine = 4096
    /// Trailer lines after the last chunk: a few checksums and the trailer signature in practice;
    /// each line is bounded by `maxLine`, and so is their number.
    static let maxTrailers = 32

    init(chain: ChunkSignatureChain?, signedTrailer: Bool) {
        self.chain = chain
        self.signedTrailer = signedTrailer
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    mutating func feed(_ input: UnsafeRawBufferPointer, _ sink: (UnsafeRawBufferPointer) throws -> Void) throws {
        var offset = 0
        while offset < input.count {
            switch state {
            case .header, .trailer, .dataEnd:
                // Accumulate one CRLF-terminated line.
                let byte = input[offset]
                offset += 1
                line.append(byte)
                guard line.count <= Self.maxLine else { throw Self.malformed("chunk header line too long") }
                if line.count >= 2 && line[line.count - 2] == 13 && byte == 10 {
                    let text = line.dropLast(2)
                    line.removeAll(keepingCapacity: true)
                    try handleLine(Array(text))
                }
            case .data(let remaining):
                let take = min(remaining, input.count - offset)
                let piece = UnsafeRawBufferPointer(rebasing: input[offset..<offset + take])
                if chain != nil { chunkHash.update(piece) }
                try sink(piece)
                decodedCount += UInt64(take)
                offset += take
                if take == remaining {
                    try finishChunkData()
                    state = .dataEnd
                } else {
                    state = .data(remaining: remaining - take)
                }
            case .done:
                throw Self.malformed("bytes after the end of the aws-chunked body")
            }
        }
    }

    private mutating func handleLine(_ text: [UInt8]) throws {
        switch state {
        case .dataEnd:
            guard text.isEmpty else { throw Self.malformed("chunk data longer than its declared size") }
            state = .header
        case .header:
            let string = String(decoding: text, as: UTF8.self)
            let parts = string.split(separator: ";", maxSplits: 1)
            // Hex digits only: `Int(_:radix:)` alone would take a sign (`+10`, `-0`).
            guard let sizeText = parts.first.map({ $0.trimmedSpaces() }), !sizeText.isEmpty, sizeText.count <= 16,
                sizeText.utf8.allSatisfy({ Hex.value($0) != nil }), let size = Int(sizeText, radix: 16)
            else { throw Self.malformed("bad chunk size line") }
            pendingSignature = ""
            if parts.count == 2 {
                let extensionText = parts[1]
                if extensionText.hasPrefix("chunk-signature=") {
                    pendingSignature = String(extensionText.dropFirst("chunk-signature=".count))
                }
            }
            if chain != nil && pendingSignature.isEmpty { throw S3Error.signatureDoesNotMatch() }
            if size == 0 {
                if chain != nil {
                    guard chain!.verifyFinalChunk(signature: pendingSignature) else { throw S3Error.signatureDoesNotMatch() }
                }
                state = .trailer
            } else {
                state = .data(remaining: size)
            }
        case .trailer:
            if text.isEmpty {
                try finishTrailers()
                state = .done
                return
            }
            let string = String(decoding: text, as: UTF8.self)
            guard let colon = string.firstIndex(of: ":") else { throw Self.malformed("bad trailer line") }
            let name = string[..<colon].lowercased().trimmedSpaces()
            let value = String(string[string.index(after: colon)...]).trimmedSpaces()
            if name == "x-amz-trailer-signature" {
                trailerSignature = value
            } else {
                guard trailers.count < Self.maxTrailers else { throw Self.malformed("more than \(Self.maxTrailers) trailers") }
                trailers.append((name, value))
            }
        case .data, .done:
            break
        }
    }

    private mutating func finishChunkData() throws {
        guard chain != nil else { return }
        let hash = chunkHash.finalize()
        guard chain!.verifyChunk(sha256OfChunk: hash, signature: pendingSignature) else {
            throw S3Error.signatureDoesNotMatch()
        }
    }

    private mutating func finishTrailers() throws {
        guard signedTrailer, chain != nil else { return }
        guard let trailerSignature else { throw S3Error.signatureDoesNotMatch() }
        let canonical = ChunkSignatureChain.canonicalTrailer(trailers.map { ($0.name, $0.value) })
        guard chain!.verifyTrailer(sha256OfTrailer: DigestAlgorithm.sha256.hash(canonical), signature: trailerSignature)
        else { throw S3Error.signatureDoesNotMatch() }
    }

    /// Called at the end of the HTTP body: a body that stops early is incomplete.
    func finish() throws {
        guard isDone else { throw S3Error.incompleteBody() }
    }

    static func malformed(_ detail: String) -> S3Error {
        S3Error("InvalidRequest", .badRequest, "The aws-chunked body is malformed: \(detail)")
    }
}
