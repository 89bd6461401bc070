import Glibc
import Logging
import Synchronization

/// A node's graceful stop behind a load balancer (README "Rolling restart").
///
/// On SIGTERM the node first fails its readiness probes while it keeps serving everything, so
/// a balancer that checks readiness takes it out of rotation before it stops taking
/// connections; requests the balancer still sends during its check interval are answered.
/// Only then does the listener stop (in-flight requests finish, bounded by `server.drainTimeout`).
/// The wait (`server.drainDelay`) is spent only when something asked for readiness in the last
/// minute: with nobody watching (a single embedded node, a test) there is nobody to tell, and the
/// stop begins at once.
final class Drain: Sendable {
    /// How long readiness fails before the listener stops, in seconds.
    let delay: Int
    private let draining = Atomic<Bool>(false)
    /// Monotonic seconds of the latest readiness probe answered (0: none yet).
    private let lastProbe = Atomic<Int>(0)

    /// A readiness probe older than this does not count as a balancer watching.
    static let watchedWithin = 60

    init(delay: Int) {
        self.delay = delay
    }

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    /// Notes that a readiness probe was answered (HealthEndpoints).
    func probed() {
        lastProbe.store(Self.monotonicSeconds(), ordering: .relaxed)
    }

    /// Starts failing readiness; returns how long to keep serving before the listener stops
    /// (0 when no probe came within `watchedWithin` seconds or the delay is 0).
    func begin() -> Int {
        draining.store(true, ordering: .relaxed)
        let last = lastProbe.load(ordering: .relaxed)
        guard delay > 0, last > 0, Self.monotonicSeconds() - last <= Self.watchedWithin else { return 0 }
        return delay
    }

    static func monotonicSeconds() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        // +1: a probe in the first second after boot is still "a probe" (0 means none).
        return Int(now.tv_sec) + 1
    }
}
