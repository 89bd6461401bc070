import Logging
import Synchronization

/// What this node last read from the shared index, answered from while PostgreSQL cannot be
/// reached, so GET and HEAD of recently read objects go on during an outage (README "Cluster
/// mode", "While PostgreSQL is unreachable").
///
/// What it holds: the rows (present or absent) that point reads (`get`, `contains`) of read
/// transactions saw, each with the instant its transaction began (when the row was known to be
/// true), least recently used first out past `maximumEntries` or `maximumBytes`. Scans and counts
/// are not kept: a listing during an outage is refused (503), never answered from a partial set.
///
/// When it answers: only after a transaction of this node failed to reach PostgreSQL (and until
/// one reaches it again), only for a read transaction that could not start, and only from rows
/// confirmed at most `freshness` before this node noticed the outage. The rule behind it: while
/// the database is down no node can change anything, so what was true when it went down stays
/// true; a row confirmed within `freshness` of that moment can miss only a change another node
/// made in those last seconds. A read that needs a row not kept (an object never read here, or
/// read too long ago), a scan or any write fails as before: 503 SlowDown.
///
/// This node's own writes are never hidden behind an older row: every key a write transaction
/// touched is dropped when it ends (committed or not), and a read that began before that write
/// ended may not put its older value back (`Tombstones`).
final class OutageReadCache: Sendable {
    struct Key: Hashable {
        var table: UInt32
        var key: [UInt8]
    }

    private struct Entry {
        var value: [UInt8]?
        var confirmed: ContinuousClock.Instant
        var lastUse: UInt64
        var bytes: Int { value?.count ?? 0 }
    }

    private struct State {
        var entries: [Key: Entry] = [:]
        var bytes = 0
        var useClock: UInt64 = 0
        /// When this node first failed to reach the index since it last answered; nil while it answers.
        var outageNoticed: ContinuousClock.Instant?
        /// The start of each read transaction in flight, by token.
        var activeReads: [UInt64: ContinuousClock.Instant] = [:]
        var nextReadToken: UInt64 = 0
        /// Keys written while an older read was in flight, with when the write ended: that
        /// read's value for them is older than the write and must not be kept.
        var tombstones: [Key: ContinuousClock.Instant] = [:]
        /// Reads that began before this instant keep nothing (tombstones overflowed).
        var keepNothingBefore: ContinuousClock.Instant?
    }

    let maximumEntries: Int
    let maximumBytes: Int
    let freshness: Duration
    private let logger: Logger
    private let state = Mutex(State())

    /// Defaults: 50,000 rows or 64 MiB (an object record with a few chunks is a few hundred
    /// bytes: tens of thousands of objects), rows confirmed at most 60 s before the outage.
    static let defaultMaximumEntries = 50_000
    static let defaultMaximumBytes = 64 << 20
    static let defaultFreshness = Duration.seconds(60)
    /// Bound on keys remembered as written during older reads.
    static let maximumTombstones = 100_000

    init(
        maximumEntries: Int = defaultMaximumEntries, maximumBytes: Int = defaultMaximumBytes,
        freshness: Duration = defaultFreshness, logger: Logger
    ) {
        self.maximumEntries = max(1, maximumEntries)
        self.maximumBytes = max(1, maximumBytes)
        self.freshness = freshness
        self.logger = logger
    }

    var count: Int { state.withLock { $0.entries.count } }

    // MARK: the index's health, as this node sees it

    /// A transaction reached PostgreSQL: the cache stops answering.
    func indexAnswered() {
        let ended = state.withLock { s -> Bool in
            defer { s.outageNoticed = nil }
            return s.outageNoticed != nil
        }
        if ended { logger.notice("cluster index reachable again: reads and writes go to PostgreSQL") }
    }

    /// A transaction could not reach PostgreSQL: logged once per outage, not per request.
    func indexFailed(_ error: any Error) {
        let (started, rows) = state.withLock { s -> (Bool, Int) in
            guard s.outageNoticed == nil else { return (false, 0) }
            s.outageNoticed = .now
            return (true, s.entries.count)
        }
        if started {
            logger.error(
                "cluster index unreachable (\(error)): until it answers, reads are answered from this node's \(rows) recently read index rows confirmed at most \(freshness) before now; writes, listings and other reads get 503 SlowDown"
            )
        }
    }

    var isInOutage: Bool { state.withLock { $0.outageNoticed != nil } }

    // MARK: keeping rows

    /// Registers a read transaction that begins now; hand the token back to `endRead`.
    func beginRead() -> (token: UInt64, started: ContinuousClock.Instant) {
        let now = ContinuousClock.now
        return state.withLock { s in
            s.nextReadToken += 1
            s.activeReads[s.nextReadToken] = now
            return (s.nextReadToken, now)
        }
    }

    func endRead(_ token: UInt64) {
        state.withLock { s in
            s.activeReads[token] = nil
            Self.pruneTombstones(&s)
        }
    }

    /// Keeps what a read transaction begun at `confirmed` saw under `key` (nil: absent).
    func record(table: UInt32, key: [UInt8], value: [UInt8]?, confirmed: ContinuousClock.Instant) {
        let cacheKey = Key(table: table, key: key)
        state.withLock { s in
            if let floor = s.keepNothingBefore, confirmed < floor { return }
            if let written = s.tombstones[cacheKey], written >= confirmed { return }
            s.useClock += 1
            let entry = Entry(value: value, confirmed: confirmed, lastUse: s.useClock)
            if let old = s.entries[cacheKey] {
                // A newer confirmation already held wins over this older one.
                guard old.confirmed <= confirmed else { return }
                s.bytes -= old.bytes + key.count
            }
            s.entries[cacheKey] = entry
            s.bytes += entry.bytes + key.count
            evictIfNeeded(&s)
        }
    }

    /// Drops the rows a write transaction touched (`nil`: every row, after a table was cleared),
    /// when it ends, committed or not.
    func forget(_ keys: [Key]?) {
        let now = ContinuousClock.now
        state.withLock { s in
            let olderReadInFlight = s.activeReads.values.contains { $0 < now }
            guard let keys else {
                s.entries = [:]
                s.bytes = 0
                s.tombstones = [:]
                if olderReadInFlight { s.keepNothingBefore = now }
                return
            }
            for key in keys {
                if let old = s.entries.removeValue(forKey: key) { s.bytes -= old.bytes + key.key.count }
                if olderReadInFlight { s.tombstones[key] = now }
            }
            if s.tombstones.count > Self.maximumTombstones {
                s.tombstones = [:]
                s.keepNothingBefore = now
            }
        }
    }

    /// Tombstones older than every read in flight can no longer meet a read that began before them.
    private static func pruneTombstones(_ s: inout State) {
        guard !s.tombstones.isEmpty || s.keepNothingBefore != nil else { return }
        guard let oldest = s.activeReads.values.min() else {
            s.tombstones = [:]
            s.keepNothingBefore = nil
            return
        }
        if s.tombstones.count > 64 { s.tombstones = s.tombstones.filter { $0.value >= oldest } }
        if let floor = s.keepNothingBefore, floor < oldest { s.keepNothingBefore = nil }
    }

    /// Past either bound, the least recently used tenth of the rows goes at once (a sort per
    /// many inserts rather than a linked list touched on every read).
    private func evictIfNeeded(_ s: inout State) {
        guard s.entries.count > maximumEntries || s.bytes > maximumBytes else { return }
        let byUse = s.entries.sorted { $0.value.lastUse < $1.value.lastUse }
        let entryTarget = maximumEntries - maximumEntries / 10
        let byteTarget = maximumBytes - maximumBytes / 10
        for (key, entry) in byUse {
            if s.entries.count <= entryTarget && s.bytes <= byteTarget { break }
            s.entries[key] = nil
            s.bytes -= entry.bytes + key.key.count
        }
    }

    // MARK: answering during an outage

    enum Lookup {
        /// The row as last confirmed (nil: known absent).
        case known([UInt8]?)
        /// Not kept, or confirmed too long before the outage: the index must answer.
        case unknown
    }

    /// The row under `key` if the outage rule lets it be served now.
    func lookup(table: UInt32, key: [UInt8]) -> Lookup {
        state.withLock { s in
            guard let noticed = s.outageNoticed, let entry = s.entries[Key(table: table, key: key)],
                entry.confirmed >= noticed - freshness
            else { return .unknown }
            s.useClock += 1
            s.entries[Key(table: table, key: key)]!.lastUse = s.useClock
            return .known(entry.value)
        }
    }
}
