import Dispatch
import Glibc
import Logging
import Metrics
import NIOCore
import Synchronization

/// How many client connections Depot keeps open at once, and what happens to the ones over it.
///
/// Why: every connection holds a file descriptor. Without a cap, idle connections used up the
/// open-file limit; from then on every accept failed with EMFILE, new requests waited in the
/// kernel's backlog until the idle ones were cut at the 300 s idle timeout, and nothing was
/// logged. With the cap, a connection over it is accepted and closed at once: the client sees
/// the close within milliseconds and retries (the SDKs treat a closed connection as retryable),
/// the descriptor is free again, and the refusal is counted and logged.
final class ConnectionLimiter: Sendable {
    /// The cap in effect: the configured one, lowered to what the open-file limit allows.
    let maximum: Int
    private let logger: Logger
    private let open = Atomic<Int>(0)
    /// Refusals not yet reported in a log line.
    private let unreported = Atomic<Int>(0)
    /// When (monotonic nanoseconds) the next refusal log line may be written.
    private let nextLogAt = Atomic<UInt64>(0)
    private let openGauge = Gauge(label: "depot_connections_open")
    private let refusedCounter = Counter(label: "depot_connections_refused_total")

    /// One log line per this interval at most, however many connections are refused.
    static let logInterval: UInt64 = 10_000_000_000

    init(maximum: Int, logger: Logger) {
        self.maximum = maximum
        self.logger = logger
        openGauge.record(0)
        refusedCounter.increment(by: 0)
    }

    /// The cap for `configured` (nil: Depot's default) under the soft open-file limit `fileLimit`:
    /// never more than the limit minus a reserve for segment files, the index and outbound
    /// clients, so that accepting can never run out of descriptors by itself.
    static func effectiveMaximum(configured: Int?, fileLimit: Int) -> (maximum: Int, lowered: Bool) {
        let reserve = min(256, fileLimit / 4)
        let allowed = max(1, fileLimit - reserve)
        let wanted = configured ?? defaultMaximum
        return (min(wanted, allowed), configured.map { $0 > allowed } ?? false)
    }

    /// The cap when the configuration names none (and the open-file limit allows it).
    static let defaultMaximum = 4096

    /// Counts a new connection; false when it is over the cap (it is then counted as refused).
    func admit() -> Bool {
        let count = open.add(1, ordering: .relaxed).newValue
        guard count <= maximum else {
            open.subtract(1, ordering: .relaxed)
            refused()
            return false
        }
        openGauge.record(count)
        return true
    }

    /// An admitted connection closed.
    func release() {
        let count = open.subtract(1, ordering: .relaxed).newValue
        openGauge.record(count)
    }

    private func refused() {
        refusedCounter.increment()
        unreported.add(1, ordering: .relaxed)
        let now = DispatchTime.now().uptimeNanoseconds
        let next = nextLogAt.load(ordering: .relaxed)
        guard now >= next,
            nextLogAt.compareExchange(expected: next, desired: now + Self.logInterval, ordering: .relaxed).exchanged
        else { return }
        let count = unreported.exchange(0, ordering: .relaxed)
        logger.warning(
            "refused connections: server.maxConnections reached",
            metadata: ["refused": "\(count)", "maxConnections": "\(maximum)"])
    }
}

/// The first handler of every client connection's pipeline: admits it under the
/// `ConnectionLimiter`'s cap, or closes it at once.
final class ConnectionCapHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = NIOAny

    private let limiter: ConnectionLimiter
    private var refused = false

    init(limiter: ConnectionLimiter) {
        self.limiter = limiter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        guard limiter.admit() else {
            refused = true
            // An accepted channel may not be active yet; then it is closed when it becomes so.
            if context.channel.isActive { context.close(promise: nil) }
            return
        }
        let limiter = limiter
        context.channel.closeFuture.whenComplete { _ in limiter.release() }
    }

    func channelActive(context: ChannelHandlerContext) {
        if refused {
            context.close(promise: nil)
            return
        }
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        // A refused connection's bytes go nowhere: it is being closed.
        guard !refused else { return }
        context.fireChannelRead(data)
    }
}

/// The process's open-file limit: raised to the hard limit at start, because every connection,
/// segment file and outbound client needs a descriptor and the usual soft limit (1024) is far
/// below what a server needs.
enum OpenFileLimit {
    /// Raises the soft limit to the hard limit, logs both, and returns the soft limit in effect.
    static func raise(logger: Logger) -> Int {
        var limits = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limits) == 0 else {
            logger.warning("could not read the open-file limit", metadata: ["errno": "\(errno)"])
            return 1024
        }
        let before = limits.rlim_cur
        if limits.rlim_cur < limits.rlim_max {
            var raised = limits
            raised.rlim_cur = limits.rlim_max
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 {
                limits = raised
            } else {
                logger.warning(
                    "could not raise the open-file limit to the hard limit",
                    metadata: ["soft": "\(before)", "hard": "\(describe(limits.rlim_max))", "errno": "\(errno)"])
            }
        }
        logger.info(
            "open-file limit",
            metadata: [
                "softBefore": "\(describe(before))", "soft": "\(describe(limits.rlim_cur))",
                "hard": "\(describe(limits.rlim_max))",
            ])
        return limits.rlim_cur >= rlim_t(Int.max) ? Int.max : Int(limits.rlim_cur)
    }

    private static func describe(_ value: rlim_t) -> String {
        value == rlim_t.max ? "unlimited" : String(value)
    }
}

extension DepotServer {
    /// Raises the open-file limit and makes the connection cap that fits under it.
    static func connectionLimiter(_ configured: Int?, logger: Logger) -> ConnectionLimiter {
        let fileLimit = OpenFileLimit.raise(logger: logger)
        let (maximum, lowered) = ConnectionLimiter.effectiveMaximum(configured: configured, fileLimit: fileLimit)
        if lowered {
            logger.warning(
                "server.maxConnections lowered to what the open-file limit allows",
                metadata: ["configured": "\(configured ?? 0)", "maxConnections": "\(maximum)", "openFileLimit": "\(fileLimit)"])
        } else {
            logger.info("connection cap", metadata: ["maxConnections": "\(maximum)"])
        }
        return ConnectionLimiter(maximum: maximum, logger: logger)
    }
}
