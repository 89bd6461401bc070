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

/// The object's pieces as an async sequence of byte buffers, for streaming request bodies: read
/// through `ObjectReader.bytes` (the local chunks, or the tier holding an evicted object), so a
/// copy of an evicted object is the object's bytes or an error, never an empty body.
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
        let range: Range<UInt64>
        let limiter: BandwidthLimiter?
        /// Opened on the first call, so that a source that cannot serve fails the copy there.
        var bytes: ObjectBytes.AsyncIterator?

        mutating func next() async throws -> ByteBuffer? {
            var iterator = try bytes ?? reader.bytes(range).makeAsyncIterator()
            let next = try await iterator.next()
            bytes = iterator
            guard let piece = next else { return nil }
            try await limiter?.take(piece.count)
            var buffer = ByteBufferAllocator().buffer(capacity: piece.count)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.count) { out in
                try piece.copy(into: UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count]))
                return piece.count
            }
            return buffer
        }
    }

    func makeAsyncIterator() -> Iterator { Iterator(reader: reader, range: range, limiter: limiter) }
}
