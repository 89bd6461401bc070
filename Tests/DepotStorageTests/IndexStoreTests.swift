import DepotCluster
import DepotConfig
import DepotStorage
import Glibc
import Logging
import Testing

/// The semantics every `IndexStore` must have, checked with the same test body against LMDB and
/// the memory store (and, through `IndexStoreKind`, against any store added later).
struct IndexStoreTests {
    enum IndexStoreKind: String, CaseIterable, CustomTestStringConvertible {
        case lmdb, memory, postgres
        var testDescription: String { rawValue }

        /// PostgreSQL (cluster mode's index) when DEPOT_TEST_POSTGRES_INDEX names a database:
        /// Tests/integration/test_cluster_index.py starts a private server and runs these tests
        /// against it.
        static var allCases: [IndexStoreKind] {
            postgresLocation == nil ? [.lmdb, .memory] : [.lmdb, .memory, .postgres]
        }

        static var postgresLocation: PostgresLocation? {
            guard let url = getenv("DEPOT_TEST_POSTGRES_INDEX").map({ String(cString: $0) }), !url.isEmpty else { return nil }
            return try? PostgresLocation.parse(url)
        }
    }

    /// A fresh store with tables "a" and "b", removed (LMDB's directory) when `body` returns.
    func withStore(_ kind: IndexStoreKind, _ body: (any IndexStore) throws -> Void) throws {
        switch kind {
        case .memory:
            try body(MemoryIndexStore(tables: ["a", "b"]))
        case .postgres:
            // Tables of their own per test (tests run in parallel on one database).
            let prefix = "index_test_\(UInt64.random(in: 0..<UInt64.max))"
            let store = PostgresIndex(
                location: IndexStoreKind.postgresLocation!, tables: [("a", prefix + "_a"), ("b", prefix + "_b")],
                logger: Logger(label: "index-store-tests"))
            for table in ["a", "b"] {
                try store.execute("CREATE TABLE \(prefix)_\(table) (k bytea PRIMARY KEY, v bytea NOT NULL)")
            }
            defer { for table in ["a", "b"] { try? store.execute("DROP TABLE \(prefix)_\(table)") } }
            try body(store)
        case .lmdb:
            var template = Array("/tmp/depot-index-XXXXXX".utf8CString)
            let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
            defer { _ = system("rm -rf '\(dir)'") }
            try body(LMDBEnvironment(path: dir + "/index", tables: ["a", "b"], initialMapSize: 1 << 20))
        }
    }

    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    /// Every key of `table` from `from`, in the order the scan gives them.
    static func keys(_ store: any IndexStore, _ table: Table, from: [UInt8] = []) throws -> [String] {
        try store.read { txn in
            var out: [String] = []
            try txn.scan(table, from: from) { key, _ in
                out.append(String(decoding: key, as: UTF8.self))
                return true
            }
            return out
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func putGetContainsDeleteAndTablesAreSeparate(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            #expect(store.tableNames == ["a", "b"])
            let (a, b) = (store.table("a"), store.table("b"))
            try store.write { txn in
                try txn.put(a, Self.bytes("k"), Self.bytes("one"))
                try txn.put(b, Self.bytes("k"), Self.bytes("two"))
                try txn.put(a, Self.bytes("k"), Self.bytes("three"))
            }
            let seen = try store.read { txn in
                (
                    try txn.get(a, Self.bytes("k")), try txn.get(b, Self.bytes("k")),
                    try txn.get(a, Self.bytes("missing")), try txn.contains(a, Self.bytes("k")),
                    try txn.contains(a, Self.bytes("missing"))
                )
            }
            #expect(seen.0 == Self.bytes("three"))
            #expect(seen.1 == Self.bytes("two"))
            #expect(seen.2 == nil)
            #expect(seen.3)
            #expect(!seen.4)
            let deleted = try store.write { txn in
                (try txn.delete(a, Self.bytes("k")), try txn.delete(a, Self.bytes("k")))
            }
            #expect(deleted == (true, false))
            #expect(try store.read { try $0.get(a, Self.bytes("k")) } == nil)
            #expect(try store.read { try $0.get(b, Self.bytes("k")) } == Self.bytes("two"))
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func scanWalksByteOrderFromAKeyAndStopsEarly(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            let a = store.table("a")
            // Inserted out of order; byte order puts a prefix first and 0xff after ASCII.
            let inserted: [[UInt8]] = [
                Self.bytes("b"), Self.bytes("ab"), [0xff], Self.bytes("a"), Self.bytes("a\u{0}"), Self.bytes("c"),
            ]
            try store.write { txn in
                for key in inserted { try txn.put(a, key, key + key) }
            }
            let all = try store.read { txn in
                var out: [[UInt8]] = []
                try txn.scan(a) { key, value in
                    #expect(Array(value) == Array(key) + Array(key))
                    out.append(Array(key))
                    return true
                }
                return out
            }
            #expect(all == [Self.bytes("a"), Self.bytes("a\u{0}"), Self.bytes("ab"), Self.bytes("b"), Self.bytes("c"), [0xff]])
            // From a key that is absent: the first key after it.
            #expect(try Self.keys(store, a, from: Self.bytes("aa")) == ["ab", "b", "c", "\u{FFFD}"])
            #expect(try Self.keys(store, a, from: Self.bytes("b")) == ["b", "c", "\u{FFFD}"])
            #expect(try Self.keys(store, a, from: [0xff, 0]) == [])
            // Early stop: the body returning false ends the walk.
            let firstTwo = try store.read { txn in
                var out: [String] = []
                try txn.scan(a, from: Self.bytes("a")) { key, _ in
                    out.append(String(decoding: key, as: UTF8.self))
                    return out.count < 2
                }
                return out
            }
            #expect(firstTwo == ["a", "a\u{0}"])
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func aWriteBodyThatThrowsLeavesNothing(kind: IndexStoreKind) throws {
        struct Refused: Error {}
        try withStore(kind) { store in
            let a = store.table("a")
            try store.write { txn in try txn.put(a, Self.bytes("kept"), [1]) }
            #expect(throws: Refused.self) {
                try store.write { txn in
                    try txn.put(a, Self.bytes("new"), [2])
                    try txn.put(a, Self.bytes("kept"), [3])
                    try txn.clear(store.table("b"))
                    throw Refused()
                }
            }
            #expect(try Self.keys(store, a) == ["kept"])
            #expect(try store.read { try $0.get(a, Self.bytes("kept")) } == [1])
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func nestedUndoesOnlyItsOwnChangesWhenItThrows(kind: IndexStoreKind) throws {
        struct Refused: Error {}
        try withStore(kind) { store in
            let a = store.table("a")
            let seenInside = try store.write { txn in
                try txn.put(a, Self.bytes("outer"), [1])
                // A failing child: its put, overwrite and delete are all undone.
                #expect(throws: Refused.self) {
                    try txn.nested { child in
                        try child.put(a, Self.bytes("child"), [2])
                        try child.put(a, Self.bytes("outer"), [9])
                        try child.delete(a, Self.bytes("outer"))
                        throw Refused()
                    }
                }
                // A succeeding child: its change joins the outer transaction.
                let answer = try txn.nested { child in
                    try child.put(a, Self.bytes("kept"), [3])
                    return try child.get(a, Self.bytes("outer"))
                }
                return (answer, try txn.get(a, Self.bytes("child")))
            }
            #expect(seenInside.0 == [1])
            #expect(seenInside.1 == nil)
            #expect(try Self.keys(store, a) == ["kept", "outer"])
            #expect(try store.read { try $0.get(a, Self.bytes("outer")) } == [1])
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func countAndClear(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            let (a, b) = (store.table("a"), store.table("b"))
            try store.write { txn in
                for i in 0..<50 { try txn.put(a, Self.bytes("key-\(i)"), [UInt8(i)]) }
                try txn.put(b, Self.bytes("other"), [0])
            }
            #expect(try store.read { try $0.count(a) } == 50)
            try store.write { txn in
                try txn.clear(a)
                #expect(try txn.count(a) == 0)
            }
            #expect(try store.read { try $0.count(a) } == 0)
            #expect(try store.read { try $0.count(b) } == 1)
            #expect(try Self.keys(store, a) == [])
        }
    }

    /// `readOne` (one statement, no transaction, on PostgreSQL) answers what a read's `get` does.
    @Test(arguments: IndexStoreKind.allCases)
    func readOneAnswersAsAReadsGet(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            let (a, b) = (store.table("a"), store.table("b"))
            #expect(try store.readOne(a, Self.bytes("k")) == nil)
            try store.write { txn in
                try txn.put(a, Self.bytes("k"), [1, 2])
                try txn.put(b, Self.bytes("k"), [])
            }
            #expect(try store.readOne(a, Self.bytes("k")) == [1, 2])
            #expect(try store.readOne(b, Self.bytes("k")) == [])
            #expect(try store.readOne(a, Self.bytes("k2")) == nil)
            try store.write { txn in _ = try txn.delete(a, Self.bytes("k")) }
            #expect(try store.readOne(a, Self.bytes("k")) == nil)
            // Many in a row reuse the pooled connections (nothing left open or queued behind).
            for _ in 0..<50 { #expect(try store.readOne(b, Self.bytes("k")) == []) }
        }
    }

    /// A request that fails inside a write leaves nothing of its own, and the batch's other work
    /// commits: the savepoints are queued without waiting for their answers on PostgreSQL.
    @Test(arguments: IndexStoreKind.allCases)
    func aFailedNestedWriteLeavesOnlyItsSiblings(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            let a = store.table("a")
            struct Refused: Error {}
            try store.write { txn in
                try txn.nested { child in try child.put(a, Self.bytes("one"), [1]) }
                #expect(throws: Refused.self) {
                    try txn.nested { child in
                        try child.put(a, Self.bytes("two"), [2])
                        throw Refused()
                    }
                }
                try txn.nested { child in try child.put(a, Self.bytes("three"), [3]) }
            }
            #expect(try store.readOne(a, Self.bytes("one")) == [1])
            #expect(try store.readOne(a, Self.bytes("two")) == nil)
            #expect(try store.readOne(a, Self.bytes("three")) == [3])
        }
    }

    @Test(arguments: IndexStoreKind.allCases)
    func aReadSeesOnlyCommittedWritesAndCannotWrite(kind: IndexStoreKind) throws {
        try withStore(kind) { store in
            let a = store.table("a")
            try store.write { txn in try txn.put(a, Self.bytes("k"), [1]) }
            // A snapshot taken before a write keeps seeing what was there.
            try store.read { txn in
                try store.write { writer in try writer.put(a, Self.bytes("k"), [2]) }
                #expect(try txn.get(a, Self.bytes("k")) == [1])
                #expect(throws: (any Error).self) { try txn.put(a, Self.bytes("x"), [0]) }
            }
            #expect(try store.read { try $0.get(a, Self.bytes("k")) } == [2])
            #expect(store.maxKeySize >= 511)
        }
    }
    /// The committer ends a whole batch (and LMDB retries it after growing the map) only on an
    /// `IndexTransactionFailure` that says so: LMDB's full map does, a refused key does not.
    @Test func onlyLMDBsFullMapEndsTheWholeTransaction() throws {
        var template = Array("/tmp/depot-index-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try LMDBEnvironment(path: dir + "/index", tables: ["a"], initialMapSize: 64 << 10)
        let a = store.table("a")
        var verdicts: [Bool] = []
        try store.write { txn in
            verdicts = []
            for attempt in [[UInt8](repeating: 7, count: 4000), []] {
                do {
                    try txn.nested { child in
                        // 400 KB into a 64 KiB map; an empty key LMDB refuses outright.
                        for i in 0..<100 where !attempt.isEmpty { try child.put(a, Self.bytes("key-\(i)"), attempt) }
                        if attempt.isEmpty { try child.put(a, [], [1]) }
                    }
                } catch let error as any IndexTransactionFailure {
                    verdicts.append(error.endsWholeTransaction)
                }
            }
        }
        #expect(verdicts == [true, false])
        #expect(try store.read { try $0.count(a) } == 0)
    }
}
