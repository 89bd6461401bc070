import DepotCluster
import DepotConfig
import DepotStorage
import Glibc
import Logging
import Testing

/// What only the PostgreSQL index has to get right beyond IndexStoreTests' shared semantics:
/// scans that cross its keyset pages, bounded failure when the server is gone, and the key
/// limits it shares with LMDB. Enabled when DEPOT_TEST_POSTGRES_INDEX names a database
/// (Tests/integration/test_cluster_index.py runs them against a private server).
@Suite(.enabled(if: IndexStoreTests.IndexStoreKind.postgresLocation != nil))
struct PostgresIndexTests {
    func withIndex(_ body: (PostgresIndex) throws -> Void) throws {
        let prefix = "index_test_\(UInt64.random(in: 0..<UInt64.max))"
        let index = PostgresIndex(
            location: IndexStoreTests.IndexStoreKind.postgresLocation!,
            // "missing" has no SQL table: statements on it are refused by the server.
            tables: [("a", prefix + "_a"), ("missing", prefix + "_missing")],
            logger: Logger(label: "postgres-index-tests"))
        try index.execute("CREATE TABLE \(prefix)_a (k bytea PRIMARY KEY, v bytea NOT NULL)")
        defer { try? index.execute("DROP TABLE \(prefix)_a") }
        try body(index)
    }

    @Test func aScanCrossesPagesInByteOrderAndStopsWhereAsked() throws {
        try withIndex { index in
            let a = index.table("a")
            // More than two pages (256 rows each), inserted in reverse.
            let keys = (0..<700).map { i -> [UInt8] in [UInt8(i >> 8), UInt8(i & 0xff)] }
            try index.write { txn in
                for key in keys.reversed() { try txn.put(a, key, key) }
            }
            let walked = try index.read { txn in
                var out: [[UInt8]] = []
                try txn.scan(a, from: keys[100]) { key, value in
                    #expect(Array(key) == Array(value))
                    out.append(Array(key))
                    return out.count < 550
                }
                return out
            }
            #expect(walked == Array(keys[100..<650]))
            #expect(try index.read { try $0.count(a) } == 700)
        }
    }

    @Test func keysLMDBWouldRefuseAreRefusedAndAReadCannotWrite() throws {
        try withIndex { index in
            let a = index.table("a")
            #expect(throws: PostgresIndexError.self) { try index.write { try $0.put(a, [], [1]) } }
            #expect(throws: PostgresIndexError.self) {
                try index.write { try $0.put(a, [UInt8](repeating: 1, count: index.maxKeySize + 1), [1]) }
            }
            #expect(throws: PostgresIndexError.self) {
                try index.read { txn in try txn.put(a, [1], [1]) }
            }
            let count = try index.read { txn in try txn.count(a) }
            #expect(count == 0)
        }
    }

    @Test func aRefusedChildLeavesTheTransactionUsable() throws {
        try withIndex { index in
            let a = index.table("a")
            try index.write { txn in
                try txn.put(a, [1], [1])
                // A child whose second put the server refuses (PostgreSQL then refuses every
                // statement until a rollback): the savepoint undoes its first put, and the
                // transaction goes on and commits the rest.
                #expect(throws: PostgresIndexError.self) {
                    try txn.nested { child in
                        try child.put(a, [2], [2])
                        try child.put(index.table("missing"), [9], [0])
                    }
                }
                try txn.put(a, [3], [3])
            }
            let keys = try index.read { txn in
                var out: [[UInt8]] = []
                try txn.scan(a) { key, _ in
                    out.append(Array(key))
                    return true
                }
                return out
            }
            #expect(keys == [[1], [3]])
        }
    }

    @Test func aRefusedStatementOutsideNestedFailsTheCommitInsteadOfASilentRollback() throws {
        try withIndex { index in
            let a = index.table("a")
            #expect(throws: PostgresIndexError.self) {
                try index.write { txn in
                    try txn.put(a, [1], [1])
                    // The body swallows the refusal and returns normally.
                    _ = try? txn.get(index.table("missing"), [1])
                }
            }
            let count = try index.read { txn in try txn.count(a) }
            #expect(count == 0)
        }
    }

    @Test func anUnreachableServerFailsFastAndEndsTheWholeTransaction() throws {
        // A port nothing listens on: connection refused at once; the next attempt waits out
        // the backoff instead of trying again.
        var location = IndexStoreTests.IndexStoreKind.postgresLocation!
        location.port = 1
        let index = PostgresIndex(location: location, tables: [("a", "nothing_here")], timeout: 3, logger: Logger(label: "t"))
        let clock = ContinuousClock()
        for _ in 0..<2 {
            let took = clock.measure {
                do {
                    // A row this index never read: its outage cache cannot answer either.
                    _ = try index.read { txn in try txn.get(index.table("a"), [1]) }
                    Issue.record("a read on an unreachable server succeeded")
                } catch let error as PostgresIndexError {
                    #expect(error.endsWholeTransaction, "\(error)")
                } catch {
                    Issue.record("unexpected \(error)")
                }
            }
            #expect(took < .seconds(3))
        }
    }
}
