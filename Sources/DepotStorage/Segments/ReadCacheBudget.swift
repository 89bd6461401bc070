import Glibc

/// The segment bytes that reads brought into the page cache, held to a budget: the oldest read
/// ranges past it are dropped (`POSIX_FADV_DONTNEED`), so reads cycle through the same memory
/// instead of growing the cache over every free page of the machine.
///
/// Why: a cold read's page-cache pages are new memory, and first touching memory the machine
/// has not used for a while costs far more than reusing pages just freed (on this project's VM
/// the host backs guest memory lazily). Measured here (8 processes, 1 MiB `preadv`s of a file
/// written like a segment, page cache dropped before): reading 2 GiB took 0.42 system CPU-s per
/// GiB, reading 9 GiB 1.08 when the pages stayed cached and 0.50 when each read dropped its
/// range after it; Depot's own 32 MiB GETs from disk went from 0.66 CPU-s/GiB over 4 GiB of
/// objects to 1.57 over 9 GiB (Benchmarks/RESULTS-NOTES.md). The write side already drops what
/// it synced (`SegmentStore.syncDirty`) for the same reason. Ranges read again while within the
/// budget stay cached, so a working set of recently read objects up to the budget is served
/// from memory; small reads (a 4 KiB GET) are not counted and stay cached as before.
struct ReadCacheBudget {
    struct Range: Hashable {
        let segment: UInt32
        let offset: Int
        let length: Int
    }

    /// Reads shorter than this are left to the kernel's own cache policy.
    static let smallestCountedRead = 64 << 10

    /// At most this much of the machine's memory, up to 1 GiB: 32 MiB GETs of 16 objects, a
    /// bench's hot set, stay cached, and a small edge box keeps most of its memory for the rest.
    static func defaultBytes() -> Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES))
        let pageSize = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, pageSize > 0 else { return 256 << 20 }
        return min(1 << 30, pages * pageSize / 8)
    }

    let bytes: Int
    /// Ranges in the order they were last read; an entry is stale once its range was read again
    /// (`latest` then holds a newer number for it), and is skipped when its turn comes.
    private var queue: [(range: Range, number: Int)] = []
    /// Index of the oldest entry not yet handed out or skipped.
    private var head = 0
    private var latest: [Range: Int] = [:]
    private var nextNumber = 0
    /// Bytes of the ranges counted now, each once however often it was read.
    private(set) var total = 0

    init(bytes: Int) { self.bytes = bytes }

    /// Counts a range just read (a range read again moves to the newest end); returns the least
    /// recently read ranges to drop so that the total stays within the budget. The range just
    /// read is never one of them.
    mutating func note(_ range: Range) -> [Range] {
        guard range.length >= Self.smallestCountedRead else { return [] }
        if latest[range] == nil { total += range.length }
        latest[range] = nextNumber
        queue.append((range, nextNumber))
        nextNumber += 1
        var dropped: [Range] = []
        while total > bytes, head < queue.count - 1 {
            let (old, number) = queue[head]
            head += 1
            guard latest[old] == number else { continue }
            latest[old] = nil
            total -= old.length
            dropped.append(old)
        }
        if head >= 1024, head * 2 >= queue.count {
            queue.removeFirst(head)
            head = 0
        }
        return dropped
    }
}
