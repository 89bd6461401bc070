import DepotEngine
import DepotHashing
import NIOCore

/// What an S3 tier uploads: an object's plaintext (ObjectPieces) or its sealed copy
/// (DepotEngine SealedCopy.swift), as byte ranges pulled one buffer at a time.
struct TierBody: Sendable {
    let size: UInt64
    /// The whole body's MD5 when it is known without reading it (a plaintext single-part ETag).
    let knownMD5: [UInt8]?
    let isSealed: Bool
    let pieces: @Sendable (Range<UInt64>) -> AsyncThrowingStream<ByteBuffer, Error>

    static func plaintext(_ reader: ObjectReader) -> TierBody {
        let record = reader.record
        return TierBody(
            size: record.size, knownMD5: record.etag.contains("-") ? nil : Hex.decode(record.etag), isSealed: false
        ) { range in
            let box = PullBox(ObjectPieces(reader: reader, range: range).makeAsyncIterator())
            return AsyncThrowingStream(unfolding: { try await box.next() })
        }
    }

    /// `reader` opened with `sealed: true`; `trailer` from `SealedCopy.trailer`.
    static func sealed(_ reader: ObjectReader, trailer: [UInt8]) -> TierBody {
        let record = reader.record
        let payloads = SealedCopy.payloadRanges(record)
        let size = SealedCopy.size(record, trailerCount: trailer.count)
        let trailerStart = size - UInt64(trailer.count)
        // The copy's parts, in order: the magic, each chunk's payload, the trailer.
        var parts: [(range: Range<UInt64>, chunk: Int?, bytes: [UInt8])] = [
            (0..<UInt64(SealedCopy.magic.count), nil, SealedCopy.magic)
        ]
        for (index, range) in payloads.enumerated() { parts.append((range, index, [])) }
        parts.append((trailerStart..<size, nil, trailer))
        let all = parts
        return TierBody(size: size, knownMD5: nil, isSealed: true) { range in
            let limiter = BandwidthLimiter.current
            let state = SealedPieceCursor(parts: all.filter { $0.range.overlaps(range) }, range: range)
            return AsyncThrowingStream(unfolding: {
                guard let piece = try state.next(reader) else { return nil }
                try await limiter?.take(piece.count)
                return ByteBuffer(bytes: piece)
            })
        }
    }

    /// The MD5 of the whole body: known, or read once (the tier checks what it receives by it).
    func md5() async throws -> [UInt8] {
        if let knownMD5 { return knownMD5 }
        let digest = StreamingDigest(.md5)
        for try await buffer in pieces(0..<size) { buffer.withUnsafeReadableBytes { digest.update($0) } }
        return digest.finalize()
    }
}

/// Hands out a sealed copy's parts overlapping a range, one part (at most one chunk) per call.
private final class SealedPieceCursor: @unchecked Sendable {
    private var parts: ArraySlice<(range: Range<UInt64>, chunk: Int?, bytes: [UInt8])>
    private let range: Range<UInt64>

    init(parts: [(range: Range<UInt64>, chunk: Int?, bytes: [UInt8])], range: Range<UInt64>) {
        self.parts = parts[...]
        self.range = range
    }

    func next(_ reader: ObjectReader) throws -> [UInt8]? {
        guard let part = parts.popFirst() else { return nil }
        let bytes = try part.chunk.map { try reader.sealedPayload($0) } ?? part.bytes
        guard UInt64(bytes.count) == UInt64(part.range.count) else {
            throw TierError("chunk \(part.chunk ?? -1) of \(reader.bucket)/\(reader.key) is not the length its manifest says")
        }
        let from = Int(max(range.lowerBound, part.range.lowerBound) - part.range.lowerBound)
        let to = Int(min(range.upperBound, part.range.upperBound) - part.range.lowerBound)
        return Array(bytes[from..<to])
    }
}

/// A mutable async iterator behind a reference, for AsyncThrowingStream(unfolding:).
private final class PullBox<Iterator: AsyncIteratorProtocol>: @unchecked Sendable {
    private var iterator: Iterator
    init(_ iterator: Iterator) { self.iterator = iterator }
    func next() async throws -> Iterator.Element? { try await iterator.next() }
}

/// Read-through of an encrypted object whose tier copy may be sealed: the copy's first 16 bytes
/// say which it is. A plaintext copy streams as it is; a sealed one is fetched for the chunks the
/// range needs, each opened with the object's domain (its tag checked) and cut to the range.
/// The domain is asked for only then (a plaintext copy needs none); a sealed copy without its
/// domain is an error, never served as ciphertext.
enum SealedCopyReadThrough {
    static func stream(
        _ record: ObjectRecord, range: Range<UInt64>, domain: @escaping @Sendable () throws -> EncryptionDomain?,
        fetch: @escaping @Sendable (Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error>
    ) -> AsyncThrowingStream<[UInt8], Error> {
        let reader = SealedRangeReader(record: record, range: range, openDomain: domain, fetch: fetch)
        return AsyncThrowingStream(unfolding: { try await reader.next() })
    }
}

private final class SealedRangeReader: @unchecked Sendable {
    let record: ObjectRecord
    let range: Range<UInt64>
    let openDomain: @Sendable () throws -> EncryptionDomain?
    private var domain: EncryptionDomain?
    let fetch: @Sendable (Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error>
    private var started = false
    /// A plaintext copy: its bytes as they come.
    private var passthrough: AsyncThrowingStream<[UInt8], Error>.AsyncIterator?
    /// A sealed copy: the chunks still to open (manifest index, payload range, plaintext start).
    private var chunks: [(index: Int, payload: Range<UInt64>, plainStart: UInt64)] = []
    private var body: AsyncThrowingStream<[UInt8], Error>.AsyncIterator?
    private var pending: [UInt8] = []

    init(
        record: ObjectRecord, range: Range<UInt64>, openDomain: @escaping @Sendable () throws -> EncryptionDomain?,
        fetch: @escaping @Sendable (Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error>
    ) {
        self.record = record
        self.range = range
        self.openDomain = openDomain
        self.fetch = fetch
    }

    func next() async throws -> [UInt8]? {
        if !started {
            started = true
            guard !range.isEmpty else { return nil }
            var head: [UInt8] = []
            for try await piece in fetch(0..<UInt64(SealedCopy.magic.count)) {
                head += piece
                if head.count >= SealedCopy.magic.count { break }
            }
            if Array(head.prefix(SealedCopy.magic.count)) != SealedCopy.magic {
                passthrough = fetch(range).makeAsyncIterator()
            } else {
                guard let domain = try openDomain() else {
                    throw TierError("the sealed copy of \(record.etag) has no encryption domain to open it with")
                }
                self.domain = domain
                var plainStart: UInt64 = 0
                for (index, payload) in SealedCopy.payloadRanges(record).enumerated() {
                    let plainEnd = plainStart + UInt64(record.manifest[index].length)
                    if plainEnd > range.lowerBound && plainStart < range.upperBound {
                        chunks.append((index, payload, plainStart))
                    }
                    plainStart = plainEnd
                }
                if let first = chunks.first, let last = chunks.last {
                    body = fetch(first.payload.lowerBound..<last.payload.upperBound).makeAsyncIterator()
                }
            }
        }
        if passthrough != nil { return try await passthrough!.next() }
        guard !chunks.isEmpty else { return nil }
        let chunk = chunks.removeFirst()
        let length = Int(chunk.payload.count)
        while pending.count < length {
            guard let piece = try await body?.next() else {
                throw TierError("the sealed copy of \(record.etag) ended inside chunk \(chunk.index)")
            }
            pending += piece
        }
        let payload = Array(pending[..<length])
        pending.removeFirst(length)
        guard let domain else { return nil }
        let plaintext = try domain.openSealedPayload(payload, address: record.manifest[chunk.index].hash)
        let from = Int(max(range.lowerBound, chunk.plainStart) - chunk.plainStart)
        let to = Int(min(range.upperBound, chunk.plainStart + UInt64(plaintext.count)) - chunk.plainStart)
        return Array(plaintext[from..<to])
    }
}
