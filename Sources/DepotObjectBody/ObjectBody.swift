import DepotEngine
import HummingbirdCore
import NIOCore

/// A response body that streams a byte range of a stored object, piece by piece (at most 1 MiB
/// each), from the segments as the client takes them, or read through from a tier when a
/// transition evicted the local copy. The S3 GET and the Vault downloads send objects the same
/// way, so they share this. Throws before anything is answered when the object is evicted and no
/// tier can serve it; a source that ends short fails the response (the connection closes before
/// `Content-Length` bytes), so a client never takes a truncated object for a whole one.
public func objectResponseBody(_ reader: ObjectReader, range: Range<UInt64>) throws -> ResponseBody {
    let bytes = try reader.bytes(range)
    return ResponseBody(contentLength: Int(range.count)) { writer in
        let allocator = ByteBufferAllocator()
        var window = SendWindow()
        for try await piece in bytes {
            try await window.waitForRoom()
            // Off the event loop when the read may wait for the disk (BlockingReads); otherwise
            // read here, with no closure to allocate on a small GET's path.
            let buffer =
                BlockingReads.offloads(piece.count)
                ? try await BlockingReads.elsewhere { try load(piece, allocator) }
                : try load(piece, allocator)
            window.track(buffer)
            try await writer.write(buffer)
        }
        try await writer.finish(nil)
    }
}

/// One piece's bytes, read from the store into a new buffer.
private func load(_ piece: ObjectBytePiece, _ allocator: ByteBufferAllocator) throws -> ByteBuffer {
    var buffer = allocator.buffer(capacity: piece.count)
    try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.count) { out in
        try piece.copy(into: UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count]))
        return piece.count
    }
    return buffer
}
