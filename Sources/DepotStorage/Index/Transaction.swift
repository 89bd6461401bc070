/// A transaction of an index store, valid only inside the `read`/`write` closure that produced
/// it. Values returned by `get` are copied out.
///
/// One concrete type for every store, so the engine's code is written once: an LMDB transaction
/// is held as its pointer and each call goes straight to liblmdb (statically dispatched, as fast
/// as before the seam); any other store (`MemoryIndexStore`, cluster mode's PostgreSQL index)
/// supplies an `IndexTransactionBackend` and each call goes through it.
public struct Transaction: ~Copyable {
    enum Backend {
        case lmdb(LMDBTransaction)
        case other(any IndexTransactionBackend)
    }

    let backend: Backend

    init(lmdb txn: OpaquePointer) { backend = .lmdb(LMDBTransaction(txn: txn)) }

    /// A transaction of a store other than LMDB, for that store's `read`/`write` to hand out.
    public init(backend: any IndexTransactionBackend) { self.backend = .other(backend) }

    /// The value under `key`; nil when absent.
    public func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        switch backend {
        case .lmdb(let txn): return try txn.get(table, key)
        case .other(let txn): return try txn.get(table, key)
        }
    }

    public func contains(_ table: Table, _ key: [UInt8]) throws -> Bool {
        switch backend {
        case .lmdb(let txn): return try txn.contains(table, key)
        case .other(let txn): return try txn.contains(table, key)
        }
    }

    /// Inserts or replaces the value under `key`.
    public func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        switch backend {
        case .lmdb(let txn): try txn.put(table, key, value)
        case .other(let txn): try txn.put(table, key, value)
        }
    }

    /// Deletes `key`; returns false when it was not there.
    @discardableResult
    public func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        switch backend {
        case .lmdb(let txn): return try txn.delete(table, key)
        case .other(let txn): return try txn.delete(table, key)
        }
    }

    /// Walks keys in byte order starting at the first key >= `from`, until `body` returns false.
    /// The key and value buffers are valid only during the call.
    public func scan(
        _ table: Table, from: [UInt8] = [],
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        switch backend {
        case .lmdb(let txn): try txn.scan(table, from: from, body)
        case .other(let txn): try txn.scan(table, from: from, body)
        }
    }

    /// Number of entries in a table.
    public func count(_ table: Table) throws -> Int {
        switch backend {
        case .lmdb(let txn): return try txn.count(table)
        case .other(let txn): return try txn.count(table)
        }
    }

    /// Removes every entry of a table (used by index rebuild).
    public func clear(_ table: Table) throws {
        switch backend {
        case .lmdb(let txn): try txn.clear(table)
        case .other(let txn): try txn.clear(table)
        }
    }

    /// Runs `body` in a child transaction of this write transaction: if it throws, every change it
    /// made is undone and this transaction is as it was before; otherwise its changes become part
    /// of this one (still committed or aborted as a whole). One request of a group commit runs
    /// like this, so a request that fails midway leaves nothing of itself behind.
    public func nested<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        switch backend {
        case .lmdb(let txn): return try txn.nested(body)
        case .other(let txn): return try txn.nested { child in try body(Transaction(backend: child)) }
        }
    }
}
