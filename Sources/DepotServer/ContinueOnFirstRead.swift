import HTTPTypes
import HummingbirdCore
import NIOCore
import NIOHTTPTypes
import Synchronization

/// `Expect: 100-continue`, answered in one place for every front door and every operation:
/// `100 Continue` goes out when a handler first reads the request body, and at no other time.
///
/// Why here and not in the handlers: a client that asks waits for the `100` before it sends the
/// body (curl for a second; the Java SDK and aws-sdk-go with large bodies much longer or for
/// good), so every handler that read a body without remembering to send it first stalled such
/// clients (PutBucketTagging, DeleteObjects, the admin API, …). Tying the `100` to the first read
/// makes it impossible to forget. A request refused before its body is read (a bad signature,
/// AccessDenied, NoSuchBucket, a quota) still gets its final answer without a `100`, so the
/// client need not send the body at all.
///
/// The `100` is written on the channel, as `RefusedBodyDrain` talks to it, because
/// HummingbirdCore's `ResponseWriter` cannot leave the responder's scope; it goes through the
/// same pipeline handlers (`TransferRateGuard` sees it) and is flushed before the first body
/// bytes are awaited, so before any final answer.
struct ContinueOnFirstRead: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// Sends the `100` at most once per request, however many times the body is iterated.
    final class Interim: Sendable {
        let channel: any Channel
        let sent = Atomic<Bool>(false)

        init(channel: any Channel) { self.channel = channel }

        func sendOnce() async throws {
            guard !sent.exchange(true, ordering: .relaxed) else { return }
            try await channel.writeAndFlush(HTTPResponsePart.head(HTTPResponse(status: .continue))).get()
        }
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: RequestBody.AsyncIterator
        let interim: Interim
        var asked = false

        mutating func next() async throws -> ByteBuffer? {
            if !asked {
                asked = true
                try await interim.sendOnce()
            }
            return try await base.next()
        }
    }

    let body: RequestBody
    let interim: Interim

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: body.makeAsyncIterator(), interim: interim) }

    /// The request as the front doors see it: when the client asked for `100-continue`, its body
    /// sends `100 Continue` on the first read; otherwise the request is left as it came.
    static func applied(to request: Request, channel: any Channel) -> Request {
        guard request.headers[.expect]?.lowercased() == "100-continue" else { return request }
        var request = request
        request.body = RequestBody(
            asyncSequence: ContinueOnFirstRead(body: request.body, interim: Interim(channel: channel)))
        return request
    }
}
