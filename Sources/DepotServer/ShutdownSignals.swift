import Dispatch
import Glibc
import Logging
import ServiceLifecycle

/// The write end of the self-pipe the signal handler writes to (async-signal-safe).
nonisolated(unsafe) private var signalPipeWrite: Int32 = -1

/// Turns SIGTERM and SIGINT into a graceful shutdown of the service group, and SIGHUP into a
/// configuration reload. The first stop signal drains first (Drain: readiness fails for
/// `drain.begin()` seconds while everything is still served); a second one stops at once.
///
/// ServiceLifecycle's own signal handling (a Dispatch signal source over SIG_IGN) never saw the
/// signal here: on Linux it relies on the signal being blocked in every thread, and NIO's and
/// the engine's threads exist before the group starts. A plain `sigaction` handler writing to a
/// pipe works whichever thread the kernel picks.
enum ShutdownSignals {
    static func install(
        _ group: ServiceGroup, drain: Drain, logger: Logger, onHangup: @escaping @Sendable () async -> Void
    ) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else { return }
        signalPipeWrite = fds[1]
        let readEnd = fds[0]
        for sig in [SIGTERM, SIGINT, SIGHUP] {
            var action = sigaction()
            action.__sigaction_handler.sa_handler = { signal in
                var byte: UInt8 = signal == SIGHUP ? 2 : 1
                _ = write(signalPipeWrite, &byte, 1)
            }
            sigemptyset(&action.sa_mask)
            action.sa_flags = SA_RESTART
            sigaction(sig, &action, nil)
        }
        DispatchQueue(label: "depot.signals").async {
            var stopSignals = 0
            while true {
                var byte: UInt8 = 0
                let n = read(readEnd, &byte, 1)
                if n < 0 && errno == EINTR { continue }
                guard n == 1 else { return }
                if byte == 2 {
                    Task { await onHangup() }
                    continue
                }
                stopSignals += 1
                if stopSignals > 1 {
                    // Asked again: skip what is left of the drain delay.
                    logger.notice("second stop signal: stopping now")
                    Task { await group.triggerGracefulShutdown() }
                    return
                }
                // systemd: the stop is under way (requests in flight finish first).
                SystemdNotify.send("STOPPING=1")
                let delay = drain.begin()
                if delay > 0 {
                    logger.notice(
                        "stopping: readiness now fails; serving \(delay) s more before the listener closes (server.drainDelay)")
                }
                Task {
                    if delay > 0 { try? await Task.sleep(for: .seconds(delay)) }
                    await group.triggerGracefulShutdown()
                }
            }
        }
    }
}
