/// The index seam (issue 21): what the engine needs of the store that holds its index, a set of
/// named ordered key-value tables read and written in all-or-nothing transactions.
///
/// `LMDBEnvironment` is the default (embedded, one file); `MemoryIndexStore` is the reference
/// second implementation the tests run the same checks against; cluster mode's PostgreSQL index
/// (one `k bytea primary key, v bytea` table per index table) is a third. Every store hands its
/// callers the one concrete `Transaction` type: LMDB's transactions keep their statically
/// dispatched fast path inside it, any other store plugs in an `IndexTransactionBackend`.
///
/// What only an LMDB file has (map size and growth, `usage()`, `copyCompacted(to:)`, the file
/// itself) stays on `LMDBEnvironment` and is not part of this protocol.
public protocol IndexStore: AnyObject, Sendable {
    /// The handle of a table this store opened; an unknown name is a programming error.
    func table(_ name: String) -> Table

    /// The names of the tables this store holds.
    var tableNames: Set<String> { get }

    /// A consistent read-only snapshot for the duration of `body`. A write inside it fails.
    func read<T>(_ body: (borrowing Transaction) throws -> T) throws -> T

    /// One row's value (nil: none), as `read { try $0.get(table, key) }` answers it. A store that
    /// pays round trips to start and end a transaction (PostgreSQL) reads it with one statement.
    func readOne(_ table: Table, _ key: [UInt8]) throws -> [UInt8]?

    /// One write transaction, committed as a whole when `body` returns and left without a trace
    /// when it throws. A store may run `body` again from scratch (LMDB after growing its map, a
    /// database after a serialization failure), so `body` must be repeatable: it touches only
    /// the index, or undoes its other effects itself. Writers are serialised by the caller (the
    /// engine's committer thread).
    func write<T>(_ body: (borrowing Transaction) throws -> T) throws -> T

    /// Makes every committed write durable (after writes done with relaxed durability).
    func sync() throws

    /// Whether other processes (cluster nodes) write this index too, so what this process last
    /// wrote is not necessarily what the index holds (the committer then reads its sequence
    /// number inside each batch instead of keeping it in memory).
    var isSharedBetweenNodes: Bool { get }

    /// The longest key, in bytes, the store takes (the engine refuses to start below its need).
    var maxKeySize: Int { get }
}

/// The operations of one transaction of a store other than LMDB, behind `Transaction`.
///
/// A backend is used by one thread for the duration of the `read`/`write` call that made it and
/// never escapes it. Keys compare as unsigned bytes, a shorter key before any key it is a
/// prefix of (LMDB's default order, and PostgreSQL's `bytea` order).
public protocol IndexTransactionBackend: AnyObject {
    /// The value under `key`, copied out; nil when absent.
    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]?

    func contains(_ table: Table, _ key: [UInt8]) throws -> Bool

    /// Inserts or replaces. Fails in a read transaction.
    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws

    /// Removes `key`; false when it was not there.
    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool

    /// Calls `body` with each entry whose key is >= `from`, in key order, until it returns false
    /// or the table ends. The buffers are valid only during the call; `body` may write to the
    /// transaction (the walk need not see those writes).
    func scan(
        _ table: Table, from: [UInt8], _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws

    /// Number of entries in `table`.
    func count(_ table: Table) throws -> Int

    /// Removes every entry of `table`.
    func clear(_ table: Table) throws

    /// Savepoint semantics: runs `body` with a backend for a child of this transaction (it may be
    /// this same object). If `body` throws, exactly the changes it made are undone and the error
    /// rethrown; this transaction goes on as before. Otherwise its changes join this transaction.
    func nested<T>(_ body: (any IndexTransactionBackend) throws -> T) throws -> T
}

/// An index error after which the whole write transaction cannot go on: LMDB's full map (the
/// write is retried after the map grows), a lost database connection. The committer lets such an
/// error end the batch instead of charging it to the one request that met it.
public protocol IndexTransactionFailure: Error {
    var endsWholeTransaction: Bool { get }
}

extension LMDBError: IndexTransactionFailure {
    public var endsWholeTransaction: Bool { isMapFull }
}

/// A named table of an index store.
public struct Table: Sendable {
    /// LMDB's database handle; other stores set what they like (`number`).
    let dbi: UInt32
    public let name: String

    /// A table of a store other than LMDB: `number` is that store's own handle for it (an index
    /// into its tables, say), or 0.
    public init(name: String, number: UInt32 = 0) {
        self.dbi = number
        self.name = name
    }

    /// The store's handle for the table (LMDB: the database handle).
    public var number: UInt32 { dbi }
}

extension LMDBEnvironment: IndexStore {}

extension IndexStore {
    /// A store in one process's data directory (LMDB, memory) is written by that process alone.
    public var isSharedBetweenNodes: Bool { false }

    public func readOne(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? { try read { try $0.get(table, key) } }
}
