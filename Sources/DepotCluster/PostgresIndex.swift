import DepotConfig
import DepotEngine
import DepotStorage
import Glibc
import Logging
import NIOCore
import PostgresNIO
import Synchronization

/// Cluster mode's index: the index seam (`IndexStore`) over PostgreSQL, one
/// `k bytea primary key, v bytea` table per index table (migration 1, `ClusterSchema`).
///
/// - read: a `READ ONLY` `REPEATABLE READ` transaction, one consistent snapshot like LMDB's.
/// - write: one transaction, committed when the body returns, rolled back when it throws.
/// - nested: a `SAVEPOINT`, rolled back to when the child throws.
/// - scan: keyset pages (`WHERE k >= $1 ORDER BY k LIMIT n`, then `k > last`), so a long walk
///   never holds a whole table in memory.
///
/// Calls block the calling thread (the seam is synchronous; see `BlockingPostgres` for why
/// futures and never an event-loop thread) and each is bounded by `timeout`.
///
/// Writes from several nodes: REPEATABLE READ with the whole body re-run on a conflict (`write`).
public final class PostgresIndex: IndexStore {
    let names: [String]
    /// The SQL table of each entry of `names`.
    let sqlNames: [String]
    let connections: IndexConnections
    /// Recently read rows, answered from while PostgreSQL cannot be reached (OutageReadCache).
    let outageCache: OutageReadCache
    /// The bound on one statement's answer.
    let timeout: Double
    public let maxKeySize: Int
    /// This node's name on the claims it takes (IndexClaims, PostgresIndex+Claims.swift).
    public let claimant: String
    /// How long a claim holds without renewal (`cluster.leaseSeconds`).
    public let leaseSeconds: Double
    /// Held for the whole of a write: one writer at a time in this process, as LMDB's write
    /// transaction is. The engine relies on it (a read-modify-write outside the committer, such
    /// as creating a counter or a key, must not interleave with another).
    private let writer = Mutex<Void>(())

    /// Rows fetched per scan page.
    static let scanPageSize = 256

    /// `tables`: each index table's name and the SQL table holding it (a plain lower-case
    /// identifier). `maxKeySize` stays well under PostgreSQL's b-tree entry limit (~2.7 KB).
    public init(
        location: PostgresLocation, tables: [(name: String, sqlName: String)], maxConnections: Int = 8,
        timeout: Double = 10, maxKeySize: Int = 2000, claimant: String = ClusterSettings.hostName(),
        leaseSeconds: Double = Double(ClusterSettings.defaultLeaseSeconds), logger: Logger
    ) {
        for table in tables {
            precondition(
                !table.sqlName.isEmpty
                    && table.sqlName.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 },
                "SQL table name \(table.sqlName) must be a lower-case identifier")
        }
        names = tables.map(\.name)
        sqlNames = tables.map(\.sqlName)
        self.timeout = timeout
        self.maxKeySize = maxKeySize
        self.claimant = claimant
        self.leaseSeconds = leaseSeconds
        connections = IndexConnections(location: location, maximum: maxConnections, timeout: timeout, logger: logger)
        outageCache = OutageReadCache(logger: logger)
    }

    /// The engine's tables (`IndexTable`), in the tables migration 1 made.
    public convenience init(
        location: PostgresLocation, claimant: String = ClusterSettings.hostName(),
        leaseSeconds: Double = Double(ClusterSettings.defaultLeaseSeconds), logger: Logger
    ) {
        self.init(
            location: location, tables: IndexTable.allCases.map { ($0.rawValue, ClusterSchema.tableName($0)) },
            claimant: claimant, leaseSeconds: leaseSeconds, logger: logger)
    }

    deinit { connections.close() }

    public var tableNames: Set<String> { Set(names) }

    /// Every cluster node writes the same tables.
    public var isSharedBetweenNodes: Bool { true }

    public func table(_ name: String) -> Table {
        guard let index = names.firstIndex(of: name) else { preconditionFailure("unknown index table \(name)") }
        return Table(name: name, number: UInt32(index))
    }

    func sqlName(_ table: Table) -> String {
        let index = Int(table.number)
        precondition(index < names.count && names[index] == table.name, "table \(table.name) is not this store's")
        return sqlNames[index]
    }

    /// A read that cannot reach PostgreSQL before its body starts is answered from this node's
    /// `outageCache` when every row it asks for is one the outage rule lets it serve (GET/HEAD of
    /// an object read shortly before the outage); otherwise it fails as before (503). A body that
    /// started on PostgreSQL is never run a second time.
    public func read<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        try snapshotRead(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", body)
    }

    /// One row, with one statement and no transaction around it: a single statement sees one
    /// consistent state by itself, so BEGIN, the snapshot and ROLLBACK would only add round
    /// trips (a GET's bucket lookups). The outage cache serves and learns it as any read.
    public func readOne(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        try snapshotRead(begin: nil) { txn in try txn.get(table, key) }
    }

    /// `begin` nil: `body` makes one statement, run on its own.
    private func snapshotRead<T>(begin: String?, _ body: (borrowing Transaction) throws -> T) throws -> T {
        // "Started on PostgreSQL" is "PostgreSQL answered one of its statements": BEGIN is not
        // waited for (PostgresTransaction.send), so a connection that broke while idle fails at
        // the next statement, before anything of PostgreSQL was seen.
        var answered = false
        do {
            return try transaction(begin: begin, readOnly: true, answered: &answered, body)
        } catch let error as PostgresIndexError where !answered && !error.connectionIsUsable {
            return try body(Transaction(backend: OutageSnapshot(cache: outageCache, outage: error)))
        }
    }

    /// Several nodes write the same tables, each with its own committer. A write runs at
    /// REPEATABLE READ, so a batch that read a row another node changed since its snapshot (a
    /// bucket, a chunk's reference count, the sequence number) fails with a serialization
    /// failure (40001) or a deadlock (40P01) instead of overwriting it; the whole body then runs
    /// again on a new snapshot (the `IndexStore` contract lets a write body run more than once:
    /// the committer starts each run from scratch). After `writeAttempts` the error goes to the
    /// caller, and the engine answers 503 SlowDown (`EngineError.indexUnavailable`).
    public func write<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        var attempt = 1
        while true {
            var outcome: Result<T, any Error>?
            writer.withLock { _ in
                var answered = false
                outcome = Result {
                    try transaction(begin: "BEGIN ISOLATION LEVEL REPEATABLE READ", readOnly: false, answered: &answered, body)
                }
            }
            switch outcome! {
            case .success(let value): return value
            case .failure(let error as PostgresIndexError) where error.isWriteConflict && attempt < Self.writeAttempts:
                usleep(Self.retryDelayMicroseconds(attempt: attempt))
                attempt += 1
            case .failure(let error): throw error
            }
        }
    }

    /// Runs of one write body before a conflict is the caller's (bounded: a batch never spins).
    static let writeAttempts = 8

    /// Jittered exponential backoff (2, 4, 8 … ms, at most 100 ms, each between half and all of
    /// that), so two nodes that conflicted do not meet again at the same moment.
    static func retryDelayMicroseconds(attempt: Int) -> UInt32 {
        let ceiling = min(100_000, 1_000 << min(attempt, 10))
        return UInt32(Int.random(in: (ceiling / 2)...ceiling))
    }

    /// A committed transaction is durable when COMMIT answers (synchronous_commit is the
    /// server's business): nothing left to do.
    public func sync() throws {}

    /// Runs SQL outside any index transaction (creating or dropping tables in tests).
    public func execute(_ sql: String) throws {
        let connection = try connections.take()
        var usable = true
        defer { connections.giveBack(connection, usable: usable) }
        do {
            _ = try BlockingPostgres.wait(connection.query(sql, []), seconds: timeout, operation: "running \(sql.prefix(40))")
        } catch let error as PostgresIndexError {
            usable = error.connectionIsUsable
            throw error
        }
    }

    /// Round trips: BEGIN, SAVEPOINT, RELEASE and a read's ROLLBACK are queued on the connection
    /// without waiting (`PostgresTransaction.send`); the next statement waited for settles them,
    /// so a read costs one round trip per statement it makes, and a failure among them still
    /// fails the transaction (COMMIT is waited for and settles everything before it).
    /// `answered`: whether PostgreSQL answered any statement of this transaction.
    private func transaction<T>(
        begin: String?, readOnly: Bool, answered: inout Bool, _ body: (borrowing Transaction) throws -> T
    ) throws -> T {
        let connection: PostgresConnection
        do {
            connection = try connections.take()
        } catch {
            outageCache.indexFailed(error)
            throw error
        }
        let txn = PostgresTransaction(connection: connection, index: self, readOnly: readOnly)
        defer {
            answered = txn.answered
            txn.finish()
        }
        do {
            if let begin {
                txn.send(begin, operation: "starting a transaction")
                // PostgreSQL takes a REPEATABLE READ snapshot at the first statement, not at BEGIN;
                // LMDB's read sees the index as of its start, and so does this one.
                if readOnly { try txn.run("SELECT 1", [], operation: "taking a snapshot") }
            }
            let result = try body(Transaction(backend: txn))
            // The other nodes follow configuration changes by this counter (ConfigurationGeneration),
            // bumped in the change's own transaction so whoever sees it sees the change.
            if txn.changesConfiguration && !txn.aborted {
                try txn.run(ConfigurationGeneration.bumpSQL, [], operation: "noting a configuration change")
            }
            // The connection broke under a statement whose failure the body did not pass on:
            // what it made of that is not an answer.
            if let broken = txn.broken { throw broken }
            if txn.aborted {
                // A statement failed outside a savepoint and the body went on: PostgreSQL would
                // turn COMMIT into a silent ROLLBACK, so say it.
                throw PostgresIndexError.invalid("a statement failed earlier in this transaction; nothing was committed")
            }
            if begin == nil {
                // A statement on its own: nothing to end.
            } else if readOnly {
                // Nothing to wait for: the connection's next transaction queues behind it, and a
                // failure there is a broken connection, which its next user finds.
                txn.send("ROLLBACK", operation: "ending a read")
            } else {
                try txn.run("COMMIT", [], operation: "committing")
            }
            connections.giveBack(connection, usable: true)
            outageCache.indexAnswered()
            return result
        } catch {
            var usable = (error as? PostgresIndexError)?.connectionIsUsable ?? true
            if usable { outageCache.indexAnswered() } else { outageCache.indexFailed(error) }
            if usable && begin != nil {
                // What was queued before is undone by the ROLLBACK whatever it answered.
                txn.forgetUnchecked()
                if readOnly {
                    txn.send("ROLLBACK", operation: "ending a read")
                } else {
                    do { try txn.run("ROLLBACK", [], operation: "rolling back") } catch { usable = false }
                }
            }
            connections.giveBack(connection, usable: usable)
            throw error
        }
    }
}

/// One transaction on one connection; used by one thread during one `read`/`write` call.
final class PostgresTransaction: IndexTransactionBackend {
    let connection: PostgresConnection
    let index: PostgresIndex
    let readOnly: Bool
    /// A statement failed and no savepoint rollback undid it: PostgreSQL refuses everything
    /// until then.
    var aborted = false
    /// A write touched what the nodes build their configuration from (ConfigurationGeneration).
    var changesConfiguration = false
    private var savepoints = 0
    /// A read: its registration with the outage cache, and when it began (its rows were true
    /// then). A write: the rows it touched, dropped from the cache when it ends (nil: all).
    private let read: (token: UInt64, started: ContinuousClock.Instant)?
    private var written: [OutageReadCache.Key]? = []

    init(connection: PostgresConnection, index: PostgresIndex, readOnly: Bool) {
        self.connection = connection
        self.index = index
        self.readOnly = readOnly
        read = readOnly ? index.outageCache.beginRead() : nil
    }

    /// Tells the outage cache the transaction ended (once, committed or not).
    func finish() {
        if let read {
            index.outageCache.endRead(read.token)
        } else if written?.isEmpty != true {
            index.outageCache.forget(written)
        }
    }

    /// What a read saw under `key`, kept for an outage.
    private func keep(_ table: Table, _ key: [UInt8], _ value: [UInt8]?) {
        guard let read else { return }
        index.outageCache.record(table: table.number, key: key, value: value, confirmed: read.started)
    }

    private func touched(_ table: Table, _ key: [UInt8]) {
        written?.append(OutageReadCache.Key(table: table.number, key: key))
    }

    /// Statements sent without waiting for their answer (`send`), oldest first.
    private var unchecked: [(answer: EventLoopFuture<PostgresQueryResult>, operation: String)] = []
    /// PostgreSQL answered a statement of this transaction.
    private(set) var answered = false
    /// The connection failure a statement met (the body may have caught it and gone on).
    private(set) var broken: PostgresIndexError?

    /// Queues `sql` on the connection without waiting: PostgresNIO runs a connection's queries in
    /// the order they were made, so the next `run` finds it done and settles it. For statements
    /// that fail only with the connection or with the transaction already refused (BEGIN,
    /// SAVEPOINT, RELEASE, a read's ROLLBACK), where a round trip of their own buys nothing.
    func send(_ sql: String, operation: String) {
        unchecked.append((connection.query(sql, []), operation))
    }

    /// Drops the statements sent and not yet settled (a ROLLBACK follows them).
    func forgetUnchecked() { unchecked.removeAll() }

    @discardableResult
    func run(_ sql: String, _ binds: [PostgresData], operation: String) throws -> PostgresQueryResult {
        let answer = connection.query(sql, binds)
        let outcome = Result { try BlockingPostgres.wait(answer, seconds: index.timeout, operation: operation) }
        // The statements queued before this one answered first; the earliest failure is the
        // cause (a refused BEGIN or SAVEPOINT fails what follows it). After a lost connection
        // or a timeout they may never answer: not waited for.
        let earlier = unchecked
        unchecked.removeAll()
        var failure: (any Error)?
        if case .failure(let error as PostgresIndexError) = outcome, !error.connectionIsUsable {
            failure = error
        } else {
            for statement in earlier {
                do {
                    _ = try BlockingPostgres.wait(statement.answer, seconds: index.timeout, operation: statement.operation)
                } catch {
                    failure = error
                    break
                }
            }
        }
        if failure == nil, case .failure(let error) = outcome { failure = error }
        if let failure {
            aborted = true
            if let error = failure as? PostgresIndexError, !error.connectionIsUsable { broken = error }
            throw failure
        }
        answered = true
        return try outcome.get()
    }

    private func writable(_ table: Table) throws -> String {
        guard !readOnly else { throw PostgresIndexError.invalid("write to table \(table.name) in a read transaction") }
        return index.sqlName(table)
    }

    private static func bytes(_ row: PostgresRow, column: Int = 0) throws -> [UInt8] {
        let cells = row.makeRandomAccess()
        guard var buffer = try cells[column].decode(ByteBuffer?.self) else { return [] }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }

    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        let rows = try run(
            "SELECT v FROM \(index.sqlName(table)) WHERE k = $1", [PostgresData(bytes: key)], operation: "reading \(table.name)")
        let value = try rows.first.map { try Self.bytes($0) }
        keep(table, key, value)
        return value
    }

    func contains(_ table: Table, _ key: [UInt8]) throws -> Bool {
        // The value too (not SELECT 1): an outage may need it where this node only asked whether it exists.
        try get(table, key) != nil
    }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        let sql = try writable(table)
        // LMDB refuses empty and over-long keys; so does this store, so code fits both.
        guard !key.isEmpty else { throw PostgresIndexError.invalid("empty key in table \(table.name)") }
        guard key.count <= index.maxKeySize else {
            throw PostgresIndexError.invalid(
                "key of \(key.count) bytes in table \(table.name); the longest is \(index.maxKeySize)")
        }
        touched(table, key)
        if ConfigurationGeneration.covers(table: table.name, key: key) { changesConfiguration = true }
        try run(
            "INSERT INTO \(sql) (k, v) VALUES ($1, $2) ON CONFLICT (k) DO UPDATE SET v = excluded.v",
            [PostgresData(bytes: key), PostgresData(bytes: value)], operation: "writing \(table.name)")
    }

    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        let sql = try writable(table)
        touched(table, key)
        if ConfigurationGeneration.covers(table: table.name, key: key) { changesConfiguration = true }
        return try !run(
            "DELETE FROM \(sql) WHERE k = $1 RETURNING 1", [PostgresData(bytes: key)], operation: "deleting from \(table.name)"
        )
        .isEmpty
    }

    func scan(
        _ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        let sql = index.sqlName(table)
        var bound = from
        var inclusive = true
        while true {
            let rows = try run(
                "SELECT k, v FROM \(sql) WHERE k \(inclusive ? ">=" : ">") $1 ORDER BY k LIMIT \(PostgresIndex.scanPageSize)",
                [PostgresData(bytes: bound)], operation: "scanning \(table.name)")
            for row in rows {
                let key = try Self.bytes(row, column: 0)
                let value = try Self.bytes(row, column: 1)
                let goOn = try key.withUnsafeBytes { k in try value.withUnsafeBytes { v in try body(k, v) } }
                if !goOn { return }
                bound = key
            }
            guard rows.count == PostgresIndex.scanPageSize else { return }
            inclusive = false
        }
    }

    func count(_ table: Table) throws -> Int {
        let rows = try run("SELECT count(*) FROM \(index.sqlName(table))", [], operation: "counting \(table.name)")
        guard let row = rows.first else { return 0 }
        return Int(try row.makeRandomAccess()[0].decode(Int64.self))
    }

    func clear(_ table: Table) throws {
        // DELETE, not TRUNCATE: TRUNCATE is not MVCC-safe for other nodes' open snapshots.
        written = nil
        if ConfigurationGeneration.coversClearing(table: table.name) { changesConfiguration = true }
        try run("DELETE FROM \(try writable(table))", [], operation: "clearing \(table.name)")
    }

    func nested<T>(_ body: (any IndexTransactionBackend) throws -> T) throws -> T {
        savepoints += 1
        let name = "depot_\(savepoints)"
        defer { savepoints -= 1 }
        let abortedBefore = aborted
        send("SAVEPOINT \(name)", operation: "starting a savepoint")
        do {
            let result = try body(self)
            if !aborted { send("RELEASE SAVEPOINT \(name)", operation: "releasing a savepoint") }
            return result
        } catch let error as PostgresIndexError where !error.connectionIsUsable {
            throw error
        } catch {
            // Exactly the child's changes go; a failed statement inside it no longer blocks the
            // transaction.
            try run("ROLLBACK TO SAVEPOINT \(name)", [], operation: "rolling back a savepoint")
            try run("RELEASE SAVEPOINT \(name)", [], operation: "releasing a savepoint")
            aborted = abortedBefore
            throw error
        }
    }
}
