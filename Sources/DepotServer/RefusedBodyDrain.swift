import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Reads and discards the rest of a refused request's body before the connection is closed.
///
/// Why: a request refused early (wrong keys, denied prefix) often still has megabytes of body on
/// the way. Closing the socket while those bytes sit unread makes the kernel send a reset, and a
/// reset makes the client's kernel throw away the error response it had not read yet: the
/// Kerberos Agent saw "connection reset" instead of the 401 and retried forever. Go's server
/// drains the body first and then closes; so do we, within bounds, so that a hostile client
/// cannot keep the connection busy: at most `byteLimit` bytes and `timeLimit`, whichever comes
/// first, then the connection is closed regardless.
///
/// The front doors no longer read the body at that point (the body's async stream can be
/// iterated only once and may be half read), so the discarding happens here in the pipeline,
/// between the HTTP decoder and HummingbirdCore's stream: body parts are dropped instead of
/// passed on, and reads are asked for here because the stream above stopped asking once its
/// buffer filled.
final class RefusedBodyDrain: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    static let byteLimit = 32 << 20
    static let timeLimit = TimeAmount.seconds(5)

    /// The outbound user event that starts the drain; its promise completes once the body has
    /// ended, a bound was reached or the peer went away.
    struct Start: Sendable {}

    private enum State {
        case passing
        case draining(EventLoopPromise<Void>, discarded: Int, deadline: Scheduled<Void>)
        /// Drained: everything that still arrives is dropped until the connection closes.
        case finished
    }

    private var state = State.passing
    /// Whether the latest request's body has ended, or no more of it can come (no request has
    /// started, the peer closed its side, the parser failed).
    private var bodyEnded = true

    /// Drains the refused request's remaining body within the bounds, then closes the connection.
    static func drainThenClose(_ channel: any Channel) async {
        try? await channel.triggerUserOutboundEvent(Start()).get()
        try? await channel.close()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        switch state {
        case .passing:
            switch part {
            case .head: bodyEnded = false
            case .end: bodyEnded = true
            case .body: break
            }
            context.fireChannelRead(data)
        case .draining(let promise, let discarded, let deadline):
            switch part {
            case .body(let buffer):
                let total = discarded + buffer.readableBytes
                if total > Self.byteLimit {
                    finish()
                } else {
                    state = .draining(promise, discarded: total, deadline: deadline)
                }
            case .end, .head:
                finish()
            }
        case .finished:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        // The stream above asks for reads only while its buffer has room; a drain reads on.
        if case .draining = state { context.read() }
        context.fireChannelReadComplete()
    }

    func triggerUserOutboundEvent(context: ChannelHandlerContext, event: Any, promise: EventLoopPromise<Void>?) {
        guard event is Start else {
            context.triggerUserOutboundEvent(event, promise: promise)
            return
        }
        let promise = promise ?? context.eventLoop.makePromise()
        guard case .passing = state, !bodyEnded else {
            state = .finished
            promise.succeed()
            return
        }
        let deadline = context.eventLoop.assumeIsolated().scheduleTask(in: Self.timeLimit) { [self] in finish() }
        state = .draining(promise, discarded: 0, deadline: deadline)
        context.read()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if case ChannelEvent.inputClosed = event {
            bodyEnded = true
            finish()
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A body that stops parsing (a broken chunk) will not end: close now, not at the bound,
        // also when it broke before the drain began.
        bodyEnded = true
        finish()
        context.fireErrorCaught(error)
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    /// Ends a drain in progress; the caller closes the connection.
    private func finish() {
        guard case .draining(let promise, _, let deadline) = state else { return }
        state = .finished
        deadline.cancel()
        promise.succeed()
    }
}
