import HTTPTypes
import HummingbirdCore
import NIOCore
import Synchronization

/// Bytes that actually crossed the connection, for the access log: a body read only in part
/// (a refused upload) or a download the client cut short counts what moved, not what the
/// Content-Length header promised.
final class ByteCount: Sendable {
    private let count = Atomic<Int>(0)
    var value: Int { count.load(ordering: .relaxed) }
    func add(_ bytes: Int) { count.add(bytes, ordering: .relaxed) }
}

/// A request body that counts the bytes the front door reads.
struct CountedRequestBody: AsyncSequence, Sendable {
    typealias Element = ByteBuffer
    let body: RequestBody
    let counter: ByteCount

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let counter: ByteCount

        mutating func next() async throws -> ByteBuffer? {
            let buffer = try await base.next()
            if let buffer { counter.add(buffer.readableBytes) }
            return buffer
        }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), counter: counter) }

    static func applied(to request: Request, counter: ByteCount) -> Request {
        var request = request
        request.body = RequestBody(asyncSequence: CountedRequestBody(body: request.body, counter: counter))
        return request
    }
}

/// A response body writer that counts what was written to the connection (after each write
/// succeeded).
struct CountingBodyWriter: ResponseBodyWriter {
    var base: any ResponseBodyWriter
    let counter: ByteCount

    mutating func write(_ buffer: ByteBuffer) async throws {
        try await base.write(buffer)
        counter.add(buffer.readableBytes)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
        try await base.finish(trailingHeaders)
    }

    /// `body`, written through a counting writer; its length (and so Content-Length) is kept.
    static func counted(_ body: ResponseBody, counter: ByteCount) -> ResponseBody {
        ResponseBody(contentLength: body.contentLength) { writer in
            try await body.write(CountingBodyWriter(base: writer, counter: counter))
        }
    }
}
