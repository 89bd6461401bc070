import CLMDB
import Glibc

/// The LMDB side of `Transaction` (its fast path): one LMDB transaction, valid only inside the
/// `read`/`write` closure that produced it. Values returned by `get` are copied out, because
/// LMDB's pointers die with the transaction. The documentation of each operation is on
/// `Transaction`.
struct LMDBTransaction {
    let txn: OpaquePointer

    func get(_ table: Table, _ key: [UInt8]) throws -> [UInt8]? {
        try key.withUnsafeBytes { k in
            var mk = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var mv = MDB_val()
            let rc = mdb_get(txn, table.dbi, &mk, &mv)
            if rc == MDB_NOTFOUND { return nil }
            try check(rc, "get \(table.name)")
            return Array(UnsafeRawBufferPointer(start: mv.mv_data, count: mv.mv_size))
        }
    }

    func contains(_ table: Table, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in
            var mk = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            var mv = MDB_val()
            let rc = mdb_get(txn, table.dbi, &mk, &mv)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "get \(table.name)")
            return true
        }
    }

    func put(_ table: Table, _ key: [UInt8], _ value: [UInt8]) throws {
        try key.withUnsafeBytes { k in
            try value.withUnsafeBytes { v in
                var mk = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
                var mv = MDB_val(mv_size: v.count, mv_data: UnsafeMutableRawPointer(mutating: v.baseAddress))
                try check(mdb_put(txn, table.dbi, &mk, &mv, 0), "put \(table.name)")
            }
        }
    }

    func delete(_ table: Table, _ key: [UInt8]) throws -> Bool {
        try key.withUnsafeBytes { k in
            var mk = MDB_val(mv_size: k.count, mv_data: UnsafeMutableRawPointer(mutating: k.baseAddress))
            let rc = mdb_del(txn, table.dbi, &mk, nil)
            if rc == MDB_NOTFOUND { return false }
            try check(rc, "del \(table.name)")
            return true
        }
    }

    func scan(
        _ table: Table, from: [UInt8],
        _ body: (UnsafeRawBufferPointer, UnsafeRawBufferPointer) throws -> Bool
    ) throws {
        var cursor: OpaquePointer?
        try check(mdb_cursor_open(txn, table.dbi, &cursor), "cursor_open \(table.name)")
        defer { mdb_cursor_close(cursor) }
        var mk = MDB_val()
        var mv = MDB_val()
        var rc: Int32
        if from.isEmpty {
            rc = mdb_cursor_get(cursor, &mk, &mv, MDB_FIRST)
        } else {
            rc = from.withUnsafeBytes { f in
                mk = MDB_val(mv_size: f.count, mv_data: UnsafeMutableRawPointer(mutating: f.baseAddress))
                return mdb_cursor_get(cursor, &mk, &mv, MDB_SET_RANGE)
            }
        }
        while rc == 0 {
            let key = UnsafeRawBufferPointer(start: mk.mv_data, count: mk.mv_size)
            let value = UnsafeRawBufferPointer(start: mv.mv_data, count: mv.mv_size)
            if try !body(key, value) { return }
            rc = mdb_cursor_get(cursor, &mk, &mv, MDB_NEXT)
        }
        if rc != MDB_NOTFOUND { try check(rc, "cursor_get \(table.name)") }
    }

    func count(_ table: Table) throws -> Int {
        var st = MDB_stat()
        try check(mdb_stat(txn, table.dbi, &st), "stat \(table.name)")
        return st.ms_entries
    }

    func clear(_ table: Table) throws {
        try check(mdb_drop(txn, table.dbi, 0), "drop \(table.name)")
    }

    /// A child transaction (LMDB nests write transactions): aborted when `body` throws.
    func nested<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        var child: OpaquePointer?
        try check(mdb_txn_begin(mdb_txn_env(txn), txn, 0, &child), "txn_begin(nested)")
        let result: T
        do {
            result = try body(Transaction(lmdb: child!))
        } catch {
            mdb_txn_abort(child)
            throw error
        }
        try check(mdb_txn_commit(child), "txn_commit(nested)")
        return result
    }
}
