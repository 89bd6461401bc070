import DepotObjectBody
import Glibc
import NIOCore
import NIOPosix

/// Runs Swift concurrency's global executor on NIO's event loops (the same
/// `MultiThreadedEventLoopGroup.singleton` Hummingbird serves on), so a request's tasks run on the
/// thread that reads and writes its socket instead of hopping to the cooperative pool and back.
///
/// Why: `finish_task_switch` was 9.5% of a 4 KiB GET's server CPU (perf), most of it those hops.
/// Measured A/B with the same release binary (`DEPOT_NIO_EXECUTOR=0` against the default), 8
/// streams, server CPU per request from /proc, interleaved runs on the shared 2-core VM at load 3-8:
/// 4 KiB GET 212-223 → 186-210 µs (medians 219 → 191 and 213 → 191, -10 to -13%); 32 MiB PUT
/// 3.22-3.25 → 3.16-3.21 CPU-s/GiB (-1.5%); cached 32 MiB GET and 4 KiB PUT unchanged within the
/// noise (0.51-0.67 against 0.50-0.60 CPU-s/GiB; 485-506 against 489-528 µs). Under contention
/// the server then runs 2 busy threads instead of 4, so its op/s there can fall while its CPU per
/// request falls too; the bench on a quiet machine is the judge of throughput.
///
/// Blocking work inside tasks now stops an event loop's sockets: reads of chunks not in the page
/// cache go to a dispatch thread (`BlockingReads`; without it, 8 cold 32 MiB GET streams fell
/// from 1,424-1,559 to 1,271-1,420 MB/s, with it 1,329-1,600 against 1,206-1,598). LMDB reads
/// (memory-mapped, short) and the commit thread's waits are unchanged.
/// `DEPOT_NIO_EXECUTOR=0` keeps the cooperative pool (for comparisons and as a way back).
public enum ConcurrencyOnEventLoops {
    /// Call once, at the start of `depot serve`, before any request is served.
    @discardableResult
    public static func installUnlessDisabled() -> Bool {
        if let value = getenv("DEPOT_NIO_EXECUTOR"), String(cString: value) == "0" { return false }
        let installed = NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        BlockingReads.offloadLargeReads(installed)
        return installed
    }
}
