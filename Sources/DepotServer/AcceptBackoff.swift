import Dispatch
import Glibc
import Logging
import Metrics
import NIOCore

/// Pauses accepting for a moment when accept fails for want of file descriptors (EMFILE,
/// ENFILE), and says so in the log (at most once per interval).
///
/// Why: after such a failure NIO leaves the listening socket registered for readability, and
/// since the pending connection is still in the backlog, epoll reports it again at once: the
/// event loop spun on accept4 at 65-95% of a core. NIO's own AcceptBackoffHandler only delays the
/// next read request, which never comes in that state. Turning `autoRead` off takes the socket
/// out of epoll; turning it back on after `pause` registers it again and retries the accept.
/// The connection cap keeps this rare (it leaves a reserve of descriptors), but segment files
/// and outbound clients share the same limit.
final class AcceptBackoff: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    static let pause = TimeAmount.milliseconds(500)

    private let logger: Logger
    private var paused = false
    private var nextLogAt: UInt64 = 0
    private var unreported = 0

    init(logger: Logger) {
        self.logger = logger
    }

    /// Puts the handler first in the listening channel's pipeline (before NIO's accept handlers).
    static func install(on listener: any Channel, logger: Logger) async {
        try? await listener.eventLoop.submit {
            try listener.pipeline.syncOperations.addHandler(AcceptBackoff(logger: logger), position: .first)
        }.get()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if let failure = error as? IOError, [EMFILE, ENFILE].contains(failure.errnoCode) {
            Counter(label: "depot_accept_failures_total").increment()
            report(failure)
            pauseAccepting(context: context)
        }
        context.fireErrorCaught(error)
    }

    private func pauseAccepting(context: ChannelHandlerContext) {
        guard !paused, let options = context.channel.syncOptions,
            (try? options.getOption(ChannelOptions.autoRead)) == true,
            (try? options.setOption(ChannelOptions.autoRead, value: false)) != nil
        else { return }
        paused = true
        let channel = context.channel
        context.eventLoop.assumeIsolated().scheduleTask(in: Self.pause) {
            self.paused = false
            try? channel.syncOptions?.setOption(ChannelOptions.autoRead, value: true)
        }
    }

    private func report(_ failure: IOError) {
        unreported += 1
        let now = DispatchTime.now().uptimeNanoseconds
        guard now >= nextLogAt else { return }
        nextLogAt = now + ConnectionLimiter.logInterval
        logger.error(
            "accepting connections failed: out of file descriptors; pausing accepts",
            metadata: ["failures": "\(unreported)", "error": "\(failure)"])
        unreported = 0
    }
}
