import DepotObjectBody
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes

/// Cuts request and response bodies that move slower than `server.minTransferRate`, averaged
/// over `server.transferRateWindow` of the server waiting on the client.
///
/// Why: the idle timeout is reset by every byte, so a PUT trickling at 1 byte/s, or a GET whose
/// client never reads, held its connection (and for uploads a half-written object) for good.
///
/// Only the time the server waits on the client counts: for a request body, while a read is
/// outstanding (the server asked the socket for more); for a response body, while written bytes
/// are still queued in front of the socket. So a server that stops reading because its own
/// storage is slow (back-pressure), or that has nothing to send yet, never makes a client look
/// slow. An upload that is too slow fails its body stream with `TransferTooSlow` (the front doors
/// answer S3's 400 `RequestTimeout`, nothing is stored), and the connection is closed once that
/// answer is written; a response the client does not read is abandoned by closing the connection.
final class TransferRateGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Settings: Sendable {
        /// Bytes per second; 0 turns the guard off.
        let minimumRate: Int
        let window: TimeAmount

        /// How often the meters are checked: a quarter window, so a slow body is cut within
        /// about 1.25 windows of waiting.
        var checkInterval: TimeAmount { .nanoseconds(max(window.nanoseconds / 4, 100_000_000)) }
    }

    /// How long after an upload was failed the connection is closed even if no answer was written.
    static let answerBound = TimeAmount.seconds(5)

    private let settings: Settings
    private let logger: Logger
    private var upload = RateMeter()
    private var download = RateMeter()
    private var receivingBody = false
    /// The request asked for `100-continue` and the server has not sent it: the client is right
    /// to wait, so its silence does not count.
    private var awaitingContinue = false
    private var readOutstanding = false
    /// Response bytes written and not yet handed to the socket.
    private var queuedOut = 0
    private var failedUpload = false
    private var check: Scheduled<Void>?

    init(settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { scheduleCheck(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if check == nil { scheduleCheck(context: context) }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        check?.cancel()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        check?.cancel()
    }

    // MARK: Request bodies

    func read(context: ChannelHandlerContext) {
        if !readOutstanding {
            readOutstanding = true
            if receivingBody && !awaitingContinue { upload.startWaiting() }
        }
        context.read()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        readOutstanding = false
        upload.stopWaiting()
        // After a failed upload nothing more goes up: the connection closes once answered.
        guard !failedUpload else { return }
        switch unwrapInboundIn(data) {
        case .head(let request):
            receivingBody = true
            awaitingContinue = request.headerFields[.expect]?.lowercased() == "100-continue"
            upload = RateMeter()
        case .body(let bytes):
            upload.add(bytes.readableBytes)
        case .end:
            receivingBody = false
        }
        context.fireChannelRead(data)
    }

    // MARK: Response bodies

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head(let response):
            if response.status == .continue {
                awaitingContinue = false
                if receivingBody && readOutstanding { upload.startWaiting() }
            }
            context.write(data, promise: promise)
        case .body(let bytes):
            let count = bytes.readableBytes
            queuedOut += count
            download.startWaiting()
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { _ in
                self.queuedOut -= count
                self.download.add(count)
                if self.queuedOut == 0 { self.download.stopWaiting() }
            }
            context.write(data, promise: written)
        case .end:
            guard failedUpload else {
                context.write(data, promise: promise)
                return
            }
            // The answer to a failed upload is the connection's last.
            let written = promise ?? context.eventLoop.makePromise()
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
            context.write(data, promise: written)
        }
    }

    // MARK: Checking

    private func scheduleCheck(context: ChannelHandlerContext) {
        guard settings.minimumRate > 0 else { return }
        check = context.eventLoop.assumeIsolated().scheduleTask(in: settings.checkInterval) {
            self.runCheck(context: context)
        }
    }

    private func runCheck(context: ChannelHandlerContext) {
        guard context.channel.isActive else { return }
        if receivingBody && !failedUpload, let slow = upload.tooSlow(settings) {
            failUpload(context: context, slow)
        }
        if let slow = download.tooSlow(settings) {
            logger.warning(
                "closing a connection whose client does not read its response",
                metadata: ["bytes": "\(slow.bytes)", "seconds": "\(slow.seconds)", "minTransferRate": "\(settings.minimumRate)"])
            context.close(promise: nil)
            return
        }
        scheduleCheck(context: context)
    }

    private func failUpload(context: ChannelHandlerContext, _ slow: TransferTooSlow) {
        failedUpload = true
        receivingBody = false
        logger.warning("\(slow)")
        context.fireErrorCaught(slow)
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.answerBound) {
            context.close(promise: nil)
        }
    }
}

/// Bytes moved during the time spent waiting on the client, window by window.
struct RateMeter {
    private var waitingSince: NIODeadline?
    private var waited = TimeAmount.zero
    private var bytes = 0

    mutating func startWaiting() {
        if waitingSince == nil { waitingSince = .now() }
    }

    mutating func stopWaiting() {
        guard let since = waitingSince else { return }
        waited = waited + (.now() - since)
        waitingSince = nil
    }

    mutating func add(_ count: Int) {
        bytes += count
    }

    /// Once a whole window of waiting has passed: what moved in it, if that is below the minimum
    /// rate. A new window starts either way.
    mutating func tooSlow(_ settings: TransferRateGuard.Settings) -> TransferTooSlow? {
        if waitingSince != nil {
            stopWaiting()
            startWaiting()
        }
        guard waited >= settings.window else { return nil }
        let seconds = Double(waited.nanoseconds) / 1e9
        let moved = bytes
        waited = .zero
        bytes = 0
        guard Double(moved) < Double(settings.minimumRate) * seconds else { return nil }
        return TransferTooSlow(bytes: moved, seconds: seconds, minimumRate: settings.minimumRate)
    }
}
