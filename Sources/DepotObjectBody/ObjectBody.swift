import DepotEngine
import HummingbirdCore
import NIOCore

/// A response body that streams a byte range of a stored object, piece by piece (at most 1 MiB
/// each), read from the segments as the client takes them. The S3 GET and the Vault media
/// download send objects the same way, so they share this.
public func objectResponseBody(_ reader: ObjectReader, range: Range<UInt64>) -> ResponseBody {
    let pieces = reader.plan(range)
    return ResponseBody(contentLength: Int(range.count)) { writer in
        let allocator = ByteBufferAllocator()
        var window = SendWindow()
        for piece in pieces {
            try await window.waitForRoom()
            var buffer = allocator.buffer(capacity: piece.count)
            try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: piece.count) { out in
                try reader.read(piece, into: UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count]))
                return piece.count
            }
            window.track(buffer)
            try await writer.write(buffer)
        }
        try await writer.finish(nil)
    }
}
