import Synchronization

/// What was stored, minute by minute, over the last day: the console's ingest charts and the
/// "days of recording left" estimate. Bounded (one slot per minute of 24 h, overwritten as the
/// ring comes round); kept across restarts in the data directory's `ingest-history` file
/// (IngestHistoryFile.swift), written at most once a minute and at a clean shutdown.
public final class IngestHistory: Sendable {
    public static let slots = 24 * 60

    /// One minute of commits.
    public struct Sample: Sendable, Equatable {
        /// Minutes since the epoch this slot holds (a stale slot holds an older minute).
        public var minute: Int64 = -1
        public var bytes: UInt64 = 0
        public var objects: UInt64 = 0

        public init(minute: Int64 = -1, bytes: UInt64 = 0, objects: UInt64 = 0) {
            self.minute = minute
            self.bytes = bytes
            self.objects = objects
        }
    }

    private let ring = Mutex<[Sample]>(Array(repeating: Sample(), count: IngestHistory.slots))
    /// Counts every change, so a save can tell whether there is anything new to write.
    let changes = Atomic<UInt64>(0)
    /// The `changes` count the file holds; held while a save writes, so two saves never interleave.
    let saved = Mutex<UInt64>(0)

    public init() {}

    /// A committed object of `bytes` at `milliseconds` (Engine.now()).
    public func record(bytes: UInt64, at milliseconds: Int64) {
        let minute = milliseconds / 60_000
        ring.withLock { ring in
            let slot = Self.slot(of: minute)
            if ring[slot].minute != minute { ring[slot] = Sample(minute: minute) }
            ring[slot].bytes += bytes
            ring[slot].objects += 1
        }
        changes.add(1, ordering: .relaxed)
    }

    static func slot(of minute: Int64) -> Int {
        Int(((minute % Int64(slots)) + Int64(slots)) % Int64(slots))
    }

    /// The slots that hold a minute, oldest first (what the file keeps).
    func recordedSamples() -> [Sample] {
        ring.withLock { ring in ring.filter { $0.minute >= 0 }.sorted { $0.minute < $1.minute } }
    }

    /// Puts samples read back from the file into their slots; a slot already holding a newer
    /// minute keeps it, and one holding the same minute adds the two (commits since start).
    func restore(_ samples: [Sample]) {
        ring.withLock { ring in
            for sample in samples where sample.minute >= 0 {
                let slot = Self.slot(of: sample.minute)
                if ring[slot].minute < sample.minute {
                    ring[slot] = sample
                } else if ring[slot].minute == sample.minute {
                    ring[slot].bytes += sample.bytes
                    ring[slot].objects += sample.objects
                }
            }
        }
    }

    /// The last `minutes` minutes up to and including the one of `milliseconds`, oldest first,
    /// with empty samples for minutes nothing was committed in.
    public func samples(minutes: Int, endingAt milliseconds: Int64) -> [Sample] {
        let count = max(0, min(minutes, Self.slots))
        let last = milliseconds / 60_000
        return ring.withLock { ring in
            (0..<count).map { back in
                let minute = last - Int64(count - 1 - back)
                let slot = ring[Self.slot(of: minute)]
                return slot.minute == minute ? slot : Sample(minute: minute)
            }
        }
    }
}

extension Engine {
    /// Every owner's committed bytes and objects added up: the logical size of what is stored
    /// (before deduplication), as the quotas count it.
    public func totalUsage() throws -> StorageUsage {
        let table = usageTable
        return try indexStore.read { txn in
            var total = StorageUsage()
            var shards = UsageChange()
            try txn.scan(table, from: []) { key, value in
                // Skipped, not fatal: a figure for a page must not fail on one odd row.
                if UsageRows.isShard(key) {
                    // Cluster mode: each node's signed changes (UsageRows).
                    if let change = try? UsageRows.decodeShard(Array(value)) { shards += change }
                    return true
                }
                guard let usage = try? StorageUsage.decode(Array(value)) else { return true }
                total.bytes += usage.bytes
                total.objects += usage.objects
                return true
            }
            shards.uploading = 0
            return total.applying(shards)
        }
    }
}
