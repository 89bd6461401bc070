import DepotObjectBody
import Glibc
import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on NIO's event loops (the same
/// `MultiThreadedEventLoopGroup.singleton` Hummingbird serves on), so a request's tasks run on the
/// thread that reads and writes its socket instead of hopping to the cooperative pool and back.
///
/// Why: `finish_task_switch` was 9.5% of a 4 KiB GET's server CPU (perf), most of it those hops.
/// Measured A/B with the same release binary (`DEPOT_NIO_EXECUTOR=0` against `1`), 8
/// streams, server CPU per request from /proc, interleaved runs on the shared 2-core VM at load 3-8:
/// 4 KiB GET 212-223 → 186-210 µs (medians 219 → 191 and 213 → 191, -10 to -13%); 32 MiB PUT
/// 3.22-3.25 → 3.16-3.21 CPU-s/GiB (-1.5%); cached 32 MiB GET and 4 KiB PUT unchanged within the
/// noise (0.51-0.67 against 0.50-0.60 CPU-s/GiB; 485-506 against 489-528 µs). Under contention
/// the server then runs 2 busy threads instead of 4, so its op/s there can fall while its CPU per
/// request falls too.
///
/// Off unless `DEPOT_NIO_EXECUTOR=1`: latency got worse. 4,000 pipelined `GET /health/live` on one
/// connection took 0.59 s instead of 0.18 (release) and 4.9 instead of 2.7 (debug), since a
/// task's steps are spread over the group's loops (`next()`), each hop a cross-thread wakeup; with
/// a slow trace reader attached, 12,000 such requests took 40 s instead of 4 (test_trace's
/// `test_a_reader_that_falls_behind...` fails with it on). Tasks kept on their channel's loop (a
/// task executor per connection) keep the saving without the hops: ConnectionsOnTheirLoops, on by default.
///
/// Blocking work inside tasks stops an event loop's sockets when it is on: reads of chunks not in
/// the page cache then go to a dispatch thread (`BlockingReads`; without it, 8 cold 32 MiB GET
/// streams fell from 1,424-1,559 to 1,271-1,420 MB/s, with it 1,329-1,600 against 1,206-1,598).
public enum ConcurrencyOnEventLoops {
    /// Call once, at the start of `depot serve`, before any request is served.
    @discardableResult
    public static func installIfAsked() -> Bool {
        guard let value = getenv("DEPOT_NIO_EXECUTOR"), String(cString: value) == "1" else { return false }
        let installed = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        BlockingReads.offloadLargeReads(installed)
        return installed
    }
}
