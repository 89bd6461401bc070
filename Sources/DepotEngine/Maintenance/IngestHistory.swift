import Synchronization

/// What was stored, minute by minute, over the last day: the console's ingest charts and the
/// "days of recording left" estimate. Bounded (one slot per minute of 24 h, overwritten as the
/// ring comes round) and in memory only: a restart starts the history again.
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

    public init() {}

    /// A committed object of `bytes` at `milliseconds` (Engine.now()).
    public func record(bytes: UInt64, at milliseconds: Int64) {
        let minute = milliseconds / 60_000
        ring.withLock { ring in
            let slot = Int(minute % Int64(Self.slots))
            if ring[slot].minute != minute { ring[slot] = Sample(minute: minute) }
            ring[slot].bytes += bytes
            ring[slot].objects += 1
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
                let slot = ring[Int(((minute % Int64(Self.slots)) + Int64(Self.slots)) % Int64(Self.slots))]
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
        return try environment.read { txn in
            var total = StorageUsage()
            try txn.scan(table, from: []) { _, value in
                // Skipped, not fatal: a figure for a page must not fail on one odd row.
                guard let usage = try? StorageUsage.decode(Array(value)) else { return true }
                total.bytes += usage.bytes
                total.objects += usage.objects
                return true
            }
            return total
        }
    }
}
