import CDepotSystem
import Logging
import ServiceLifecycle

/// Hands memory the C heap holds free back to the kernel, once a second when there is enough of it.
///
/// glibc keeps what a burst of work freed (32 GET streams of 32 MiB objects grow the heap by a few
/// hundred MiB) and reuses it rather than returning it, so an edge box's resident size would stay
/// at its worst moment for the rest of the process's life. `malloc_trim` returns the free pages
/// of every arena; it costs a walk of the free lists, which is why it runs on a timer and only when
/// the free total is worth it, never on the request path.
struct HeapTrimmer: Service {
    /// Free heap below this is left alone: trimming it would only make the next burst fault it back in.
    var threshold = 16 << 20
    var interval: Duration = .seconds(1)
    let logger: Logger

    func run() async throws {
        while await pauseUnlessShuttingDown(interval) {
            let free = depot_heap_free_bytes()
            if free >= threshold, depot_heap_trim() != 0 {
                logger.trace("returned free heap to the kernel", metadata: ["freeBytes": "\(free)"])
            }
        }
    }
}
