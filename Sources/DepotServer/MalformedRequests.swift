import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypes

/// Answers a request the HTTP parser refuses (a header section over the limit, a malformed
/// request line) with an S3 error document instead of HummingbirdCore's empty 400, so clients
/// log what went wrong. The connection is closed afterwards: the parser's state is unusable.
///
/// Only between requests: when the parser fails while a request is still being answered (bytes
/// pipelined after it, a broken chunked body), the error goes on to HummingbirdCore, which ends
/// that request first, so responses never overtake each other.
final class MalformedRequestHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private var answered = false
    /// Requests whose head arrived and whose response has not ended.
    private var open = 0

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { open += 1 }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { open = max(0, open - 1) }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parserError = error as? HTTPParserError, open == 0 else {
            context.fireErrorCaught(error)
            return
        }
        guard !answered else { return }
        answered = true
        let (code, message) = Self.describe(parserError)
        let requestId = String(UInt64.random(in: 0...UInt64.max), radix: 16, uppercase: true)
        let body = """
            <?xml version="1.0" encoding="UTF-8"?>
            <Error><Code>\(code)</Code><Message>\(message)</Message><RequestId>\(requestId)</RequestId></Error>
            """
        var head = HTTPResponse(status: .badRequest)
        head.headerFields[.contentType] = "application/xml"
        head.headerFields[.contentLength] = String(body.utf8.count)
        head.headerFields[.connection] = "close"
        head.headerFields[HTTPField.Name("x-amz-request-id")!] = requestId
        context.write(wrapOutboundOut(.head(head)), promise: nil)
        context.write(wrapOutboundOut(.body(context.channel.allocator.buffer(string: body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in context.close(promise: nil) }
    }

    static func describe(_ error: HTTPParserError) -> (code: String, message: String) {
        switch error {
        case .headerOverflow:
            return ("RequestHeaderSectionTooLarge", "Your request header section exceeds the maximum allowed size.")
        case .invalidURL, .invalidPath:
            return ("InvalidURI", "Couldn't parse the specified URI.")
        default:
            return ("BadRequest", "The request could not be parsed: \(error).")
        }
    }
}
