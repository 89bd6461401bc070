import DepotConfig
import DepotEngine
import NIOCore

/// A backend that receives whole objects. Implementations stream from the segments and verify
/// the copy before returning; a thrown error means the copy cannot be trusted.
public protocol TierClient: Sendable {
    var settings: TierSettings { get }
    /// Writes the object (bytes and metadata) under its remote key, and verifies it.
    func upload(_ reader: ObjectReader, bucket: String, key: String) async throws
    /// Streams a byte range of the object's copy (read-through of transitioned objects).
    func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error>
    /// Deletes the object's copy (retention on tiers); deleting what is not there succeeds.
    func delete(bucket: String, key: String) async throws
    /// Writes, reads back and deletes a probe object; throws with what failed.
    func check() async throws
}

/// A tier failure with the detail an operator needs (what was attempted, what came back).
public struct TierError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// The object's pieces as an async sequence of byte arrays, read from the segments one piece
/// (at most 1 MiB) at a time, for streaming request bodies.
struct ObjectPieces: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let reader: ObjectReader
    let range: Range<UInt64>
    /// Captured when the sequence is made, in the task that carries out the copy: the HTTP
    /// client may iterate the body from a task of its own, which would not see the task-local.
    let limiter: BandwidthLimiter?

    init(reader: ObjectReader, range: Range<UInt64>) {
        self.reader = reader
        self.range = range
        self.limiter = BandwidthLimiter.current
    }

    struct Iterator: AsyncIteratorProtocol {
        let reader: ObjectReader
        var pieces: [ReadPiece]
        let limiter: BandwidthLimiter?
        var index = 0

        mutating func next() async throws -> ByteBuffer? {
            guard index < pieces.count else { return nil }
            let piece = pieces[index]
            index += 1
            try await limiter?.take(piece.count)
            var buffer = ByteBufferAllocator().buffer(capacity: piece.count)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.count) { out in
                try reader.read(piece, into: UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count]))
                return piece.count
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(reader: reader, pieces: reader.plan(range), limiter: limiter) }
}
