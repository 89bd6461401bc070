import Logging
import Testing

@testable import DepotCluster

/// The outage cache's rule (README "Cluster mode"): rows answer only during an outage, only when
/// confirmed at most `freshness` before it was noticed, never older than this node's own write,
/// and within their bounds. No PostgreSQL needed: the cache is fed as PostgresIndex feeds it.
struct OutageReadCacheTests {
    let logger = Logger(label: "outage-read-cache-tests")
    let key: [UInt8] = Array("recordings/cam-1/clip.mp4".utf8)

    func known(_ lookup: OutageReadCache.Lookup) -> [UInt8]?? {
        if case .known(let value) = lookup { return .some(value) }
        return .none
    }

    @Test func rowsAnswerOnlyWhileTheIndexIsUnreachable() {
        let cache = OutageReadCache(logger: logger)
        let read = cache.beginRead()
        cache.record(table: 1, key: key, value: [7, 7], confirmed: read.started)
        cache.record(table: 1, key: [9], value: nil, confirmed: read.started)
        cache.endRead(read.token)
        #expect(known(cache.lookup(table: 1, key: key)) == nil)
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        #expect(known(cache.lookup(table: 1, key: key)) == .some([7, 7]))
        // Known absent answers absent; another table's row of the same key is not this one.
        #expect(known(cache.lookup(table: 1, key: [9])) == .some(nil))
        #expect(known(cache.lookup(table: 2, key: key)) == nil)
        cache.indexAnswered()
        #expect(known(cache.lookup(table: 1, key: key)) == nil)
    }

    @Test func aRowConfirmedLongerThanFreshnessBeforeTheOutageIsNotServed() {
        let cache = OutageReadCache(freshness: .seconds(60), logger: logger)
        cache.record(table: 1, key: key, value: [1], confirmed: .now - .seconds(61))
        cache.record(table: 1, key: [2], value: [2], confirmed: .now - .seconds(30))
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        #expect(known(cache.lookup(table: 1, key: key)) == nil)
        #expect(known(cache.lookup(table: 1, key: [2])) == .some([2]))
    }

    @Test func aWriteOfThisNodeIsNeverHiddenBehindAnOlderRead() {
        let cache = OutageReadCache(logger: logger)
        let old = cache.beginRead()
        cache.record(table: 1, key: key, value: [1], confirmed: old.started)
        // The write ends while `old` is still reading; `old` then records what it saw before.
        cache.forget([OutageReadCache.Key(table: 1, key: key)])
        cache.record(table: 1, key: key, value: [1], confirmed: old.started)
        cache.endRead(old.token)
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        #expect(known(cache.lookup(table: 1, key: key)) == nil)
        cache.indexAnswered()
        // A read begun after the write keeps the new row.
        let new = cache.beginRead()
        cache.record(table: 1, key: key, value: [2], confirmed: new.started)
        cache.endRead(new.token)
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        #expect(known(cache.lookup(table: 1, key: key)) == .some([2]))
        // A cleared table drops everything.
        cache.forget(nil)
        #expect(known(cache.lookup(table: 1, key: key)) == nil)
    }

    @Test func theLeastRecentlyUsedRowsGoPastTheBounds() {
        let cache = OutageReadCache(maximumEntries: 100, maximumBytes: 1 << 20, logger: logger)
        let now = ContinuousClock.now
        for i in 0..<100 { cache.record(table: 1, key: [UInt8(i)], value: [UInt8(i)], confirmed: now) }
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        // Row 0 used again: it is the most recent now.
        #expect(known(cache.lookup(table: 1, key: [0])) == .some([0]))
        cache.indexAnswered()
        cache.record(table: 1, key: [200], value: [200], confirmed: now)
        #expect(cache.count <= 100)
        cache.indexFailed(PostgresIndexError.invalid("test outage"))
        #expect(known(cache.lookup(table: 1, key: [0])) == .some([0]))
        #expect(known(cache.lookup(table: 1, key: [200])) == .some([200]))
        #expect(known(cache.lookup(table: 1, key: [1])) == nil)
        // Bytes bound the cache too.
        let small = OutageReadCache(maximumEntries: 1000, maximumBytes: 10_000, logger: logger)
        for i in 0..<50 { small.record(table: 1, key: [UInt8(i)], value: [UInt8](repeating: 1, count: 1000), confirmed: now) }
        #expect(small.count <= 10)
    }
}
