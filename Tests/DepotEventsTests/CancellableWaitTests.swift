import Dispatch
import Glibc
import Testing

@testable import DepotEvents

/// `untilCancelled` stops waiting when its caller is cancelled, even for work that ignores
/// cancellation (a thread blocked in a broker client), and otherwise returns the work's result.
@Suite struct CancellableWaitTests {
    /// Work that no task cancellation reaches: a blocking sleep on a Dispatch thread.
    static func blockingSleep(seconds: Double) async -> Int {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                usleep(UInt32(seconds * 1_000_000))
                continuation.resume(returning: 7)
            }
        }
    }

    @Test func returnsTheResultOfWorkThatFinishes() async throws {
        let value = try await untilCancelled { await Self.blockingSleep(seconds: 0.05) }
        #expect(value == 7)
    }

    @Test func passesTheWorksErrorOn() async {
        struct Refused: Error {}
        await #expect(throws: Refused.self) { try await untilCancelled { () async throws -> Int in throw Refused() } }
    }

    // The blocked work lasts 300 s and the bound is 60 s: "stopped waiting" and "waited for the
    // work" stay far apart even when parallel suites keep both cores busy (a 5 s / 2 s pair took
    // 2.99 s in a clean-clone run; with three builds beside the tests a cancelled wait took 18-20 s
    // to be resumed, the cooperative pool busy with other suites).
    @Test func stopsWaitingAtOnceWhenCancelled() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let waiting = Task { try await untilCancelled { await Self.blockingSleep(seconds: 300) } }
        try await Task.sleep(for: .milliseconds(100))
        waiting.cancel()
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(clock.now - started < .seconds(60))
    }

    @Test func aTaskCancelledBeforeItStartsWaitingDoesNotWait() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let waiting = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await untilCancelled { await Self.blockingSleep(seconds: 300) }
        }
        await #expect(throws: CancellationError.self) { try await waiting.value }
        #expect(clock.now - started < .seconds(60))
    }
}
