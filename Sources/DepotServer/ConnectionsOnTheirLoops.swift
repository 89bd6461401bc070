import DepotObjectBody
import Glibc
import HummingbirdCore
import HummingbirdTLS
import Logging
import NIOCore
import NIOSSL

/// Runs each connection's request handling (Hummingbird's per-connection task, the responder and
/// everything it awaits that is not isolated to an actor, child tasks included) on the event
/// loop of the connection's own channel, by giving that task a task executor preference
/// (SE-0417) for the loop. Its socket reads and writes then happen on the thread the task runs
/// on, with no hop to Swift's cooperative pool and back per request; background services and
/// unstructured tasks stay on the pool.
///
/// Why not the global executor (ConcurrencyOnEventLoops, `DEPOT_NIO_EXECUTOR=1`): that one spreads
/// a task's steps over every loop of the group, each step a cross-thread wakeup, so pipelined
/// requests got 3x slower. Here a connection's steps stay on one loop.
///
/// On unless `DEPOT_CONNECTION_EXECUTOR=0`, except in cluster mode (the PostgreSQL index blocks
/// its caller, which must never be an event loop: BlockingPostgres). Blocking work on the loop:
/// reads of 64 KiB or more go to a dispatch thread (`BlockingReads`), as with the global executor.
///
/// Measured (Benchmarks/RESULTS-NOTES.md, 2026-12-05 night): same release binary, `=0` against on,
/// interleaved at load 8-17, medians: 4 KiB GET 200 → 186 µs of server CPU per request (-7%),
/// 3,080 → 3,270 op/s, p99 8.0 → 6.4 ms; 4 KiB PUT and 32 MiB PUT CPU level (464 → 460 µs,
/// 3.19 → 3.20 CPU-s/GiB); 4,000 pipelined `GET /health/live` on one connection level
/// (0.16 s; without `FlushOncePerLoopTick` 0.19 → 0.41 s).
enum ConnectionsOnTheirLoops {
    /// Whether request handling runs on the connections' loops; `clusterIndex`: the index is
    /// PostgreSQL's (ClusterIndexSetup.sharesIndex).
    static func wanted(clusterIndex: Bool) -> Bool {
        if clusterIndex { return false }
        guard let value = getenv("DEPOT_CONNECTION_EXECUTOR") else { return true }
        return String(cString: value) != "0"
    }

    /// Hummingbird's HTTP/1 server (behind TLS when `tls` is set), each connection's task on its
    /// channel's loop when `onTheirLoops`.
    static func serverBuilder(
        http: HTTP1Channel.Configuration, tls: TLSConfiguration?, onTheirLoops: Bool
    ) -> HTTPServerBuilder {
        var http = http
        if onTheirLoops {
            BlockingReads.offloadLargeReads(true)
            let others = http.additionalChannelHandlers
            // Last, so the other handlers see the flushes as they leave.
            http.additionalChannelHandlers = { others() + [FlushOncePerLoopTick()] }
        }
        let configured = http
        return HTTPServerBuilder { responder in
            let plain = HTTP1Channel(responder: responder, configuration: configured)
            guard let tls else { return onTheirLoops ? OnTheChannelsLoop(base: plain) : plain }
            let secure = try TLSChannel(plain, tlsConfiguration: tls)
            return onTheirLoops ? OnTheChannelsLoop(base: secure) : secure
        }
    }
}

/// A server child channel whose per-connection task prefers the connection's event loop.
struct OnTheChannelsLoop<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value
    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopTaskExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

/// One event loop as a task executor: jobs of tasks preferring it run on the loop's thread, as
/// nonisolated code (so a call from one nonisolated async function to another needs no hop).
/// NIO's loops are serial executors only (swift-nio 2.101 has no `taskExecutor`).
final class EventLoopTaskExecutor: TaskExecutor, @unchecked Sendable {
    let loop: any EventLoop

    init(_ loop: any EventLoop) { self.loop = loop }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        loop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}

/// Turns the flushes of one event-loop tick into one. With the handler task on the loop, each part
/// a response writes (head, body, end) reaches the channel at once and NIOAsyncChannel flushes it
/// alone, a `writev` per part; from the cooperative pool the parts queued up while the loop was
/// busy and went out in one. The first flush of a tick is held until the loop's queued work has
/// run (the task then waits for its next request or for room to write), so what the tick wrote
/// goes out together; a close waits for a held flush.
final class FlushOncePerLoopTick: ChannelOutboundHandler, RemovableChannelHandler {
    typealias OutboundIn = NIOAny
    typealias OutboundOut = NIOAny
    private var flushHeld = false

    func flush(context: ChannelHandlerContext) {
        guard !flushHeld else { return }
        flushHeld = true
        context.eventLoop.assumeIsolated().execute {
            guard self.flushHeld else { return }
            self.flushHeld = false
            context.flush()
        }
    }

    func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        releaseHeldFlush(context)
        context.close(mode: mode, promise: promise)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        releaseHeldFlush(context)
    }

    private func releaseHeldFlush(_ context: ChannelHandlerContext) {
        guard flushHeld else { return }
        flushHeld = false
        context.flush()
    }
}
