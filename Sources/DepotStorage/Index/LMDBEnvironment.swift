import CLMDB
import Glibc

/// Errors from LMDB, with the code kept so callers can tell "map full" from real failures.
public struct LMDBError: Error, CustomStringConvertible, Sendable {
    public let code: Int32
    public let operation: String
    public var description: String { "LMDB \(operation): \(String(cString: mdb_strerror(code))) (\(code))" }
    public var isMapFull: Bool { code == MDB_MAP_FULL }
    public var isNoSpace: Bool { code == ENOSPC }
}

@inline(__always)
func check(_ rc: Int32, _ operation: @autoclosure () -> String) throws {
    if rc != 0 { throw LMDBError(code: rc, operation: operation()) }
}

/// The one LMDB environment of a data directory: the default `IndexStore` (IndexStore.swift).
/// Map size, growth, `usage()` and `copyCompacted(to:)` are LMDB's own and stay off the protocol.
///
/// LMDB's environment is thread-safe; transactions are not, so every transaction here lives inside
/// one synchronous call and never crosses an `await`. Writers are serialised by the caller (the
/// engine's committer thread); readers run anywhere with `MDB_NOTLS`. The map grows instead of
/// failing with MDB_MAP_FULL: resizing needs no transaction to be active in this process, so reads
/// hold a shared lock and a resize takes it exclusively.
public final class LMDBEnvironment: @unchecked Sendable {
    let env: OpaquePointer
    private var resizeLock = pthread_rwlock_t()
    private var databases: [String: MDB_dbi] = [:]
    public let path: String
    public private(set) var mapSize: Int

    /// Opens (creating if needed) the environment in directory `path` with the named tables.
    public init(path: String, tables: [String], initialMapSize: Int = 1 << 30, readOnly: Bool = false) throws {
        self.path = path
        var envPointer: OpaquePointer?
        try check(mdb_env_create(&envPointer), "env_create")
        guard let env = envPointer else { throw LMDBError(code: EINVAL, operation: "env_create") }
        self.env = env
        self.mapSize = initialMapSize
        pthread_rwlock_init(&resizeLock, nil)
        do {
            try check(mdb_env_set_maxdbs(env, MDB_dbi(max(tables.count, 1) + 4)), "set_maxdbs")
            try check(mdb_env_set_maxreaders(env, 1024), "set_maxreaders")
            PrivateFiles.makeDirectory(path)
            // Never map less than what is already on disk.
            var st = stat()
            if stat(path + "/data.mdb", &st) == 0 { mapSize = max(mapSize, Int(st.st_size)) }
            try check(mdb_env_set_mapsize(env, mapSize), "set_mapsize")
            let flags = UInt32(MDB_NOTLS) | (readOnly ? UInt32(MDB_RDONLY) : 0)
            try check(mdb_env_open(env, path, flags, mode_t(PrivateFiles.fileMode)), "env_open \(path)")
            // mdb_env_open's mode goes through the umask; set it outright on what it made.
            if !readOnly {
                chmod(path + "/data.mdb", PrivateFiles.fileMode)
                chmod(path + "/lock.mdb", PrivateFiles.fileMode)
            }
            var txn: OpaquePointer?
            try check(mdb_txn_begin(env, nil, readOnly ? UInt32(MDB_RDONLY) : 0, &txn), "txn_begin")
            for name in tables {
                var dbi: MDB_dbi = 0
                let rc = mdb_dbi_open(txn, name, readOnly ? 0 : UInt32(MDB_CREATE), &dbi)
                if rc != 0 {
                    mdb_txn_abort(txn)
                    throw LMDBError(code: rc, operation: "dbi_open \(name)")
                }
                databases[name] = dbi
            }
            try check(mdb_txn_commit(txn), "txn_commit")
        } catch {
            mdb_env_close(env)
            throw error
        }
    }

    deinit {
        mdb_env_close(env)
        pthread_rwlock_destroy(&resizeLock)
    }

    /// The names of the tables this environment opened.
    public var tableNames: Set<String> { Set(databases.keys) }

    public func table(_ name: String) -> Table {
        guard let dbi = databases[name] else { preconditionFailure("unknown LMDB table \(name)") }
        return Table(name: name, number: dbi)
    }

    /// A read-only snapshot for the duration of `body`.
    public func read<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        pthread_rwlock_rdlock(&resizeLock)
        defer { pthread_rwlock_unlock(&resizeLock) }
        var txn: OpaquePointer?
        var rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        if rc == MDB_MAP_RESIZED {
            // Another process grew the map; adopt its size. Safe: we hold no transaction.
            mdb_env_set_mapsize(env, 0)
            rc = mdb_txn_begin(env, nil, UInt32(MDB_RDONLY), &txn)
        }
        try check(rc, "txn_begin(read)")
        let transaction = Transaction(lmdb: txn!)
        defer { mdb_txn_abort(txn) }
        return try body(transaction)
    }

    /// One write transaction. On MDB_MAP_FULL the transaction is aborted, the map doubled and
    /// `body` run again, so `body` must be repeatable (it only touches the index).
    public func write<T>(_ body: (borrowing Transaction) throws -> T) throws -> T {
        growIfNearlyFull()
        for attempt in 0..<8 {
            var txn: OpaquePointer?
            pthread_rwlock_rdlock(&resizeLock)
            var rc = mdb_txn_begin(env, nil, 0, &txn)
            if rc == MDB_MAP_RESIZED {
                pthread_rwlock_unlock(&resizeLock)
                pthread_rwlock_wrlock(&resizeLock)
                mdb_env_set_mapsize(env, 0)
                pthread_rwlock_unlock(&resizeLock)
                pthread_rwlock_rdlock(&resizeLock)
                rc = mdb_txn_begin(env, nil, 0, &txn)
            }
            if rc != 0 {
                pthread_rwlock_unlock(&resizeLock)
                throw LMDBError(code: rc, operation: "txn_begin(write)")
            }
            let transaction = Transaction(lmdb: txn!)
            let result: T
            do {
                result = try body(transaction)
            } catch let error as LMDBError where error.isMapFull && attempt < 7 {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(&resizeLock)
                grow()
                continue
            } catch {
                mdb_txn_abort(txn)
                pthread_rwlock_unlock(&resizeLock)
                throw error
            }
            // mdb_txn_commit frees the transaction whether or not it succeeds, so a failed commit
            // (ENOSPC on a full disk) must not be aborted again: that was a double free that
            // crashed the server when its disk filled.
            let commit = mdb_txn_commit(txn)
            pthread_rwlock_unlock(&resizeLock)
            if commit == MDB_MAP_FULL && attempt < 7 {
                grow()
                continue
            }
            // LMDB reports a short page write as EIO; on a device with no room left it is ENOSPC.
            try check(commit == EIO && deviceIsFull() ? ENOSPC : commit, "txn_commit")
            return result
        }
        throw LMDBError(code: MDB_MAP_FULL, operation: "write")
    }

    /// Bytes used by the index and the map size, for metrics and the pre-emptive growth check.
    public func usage() -> (used: Int, mapSize: Int) {
        var info = MDB_envinfo()
        var st = MDB_stat()
        mdb_env_info(env, &info)
        mdb_env_stat(env, &st)
        return ((info.me_last_pgno + 1) * Int(st.ms_psize), info.me_mapsize)
    }

    /// The longest key this build of liblmdb accepts (MDB_MAXKEYSIZE: 511 unless built otherwise).
    public var maxKeySize: Int { Int(mdb_env_get_maxkeysize(env)) }

    /// Forces the data and meta pages to disk (used after writes done with relaxed sync).
    public func sync() throws { try check(mdb_env_sync(env, 1), "env_sync") }

    /// Writes a copy holding only the live pages to `fd` (MDB_CP_COMPACT): the freed pages,
    /// which still hold the bytes of values since replaced or deleted, are left behind.
    public func copyCompacted(to fd: Int32) throws {
        try check(mdb_env_copyfd2(env, fd, UInt32(MDB_CP_COMPACT)), "env_copy(compact)")
    }

    /// Whether the index's file system has less than 1 MiB left.
    private func deviceIsFull() -> Bool {
        var info = statvfs()
        guard statvfs(path, &info) == 0 else { return false }
        return UInt64(info.f_bavail) * UInt64(info.f_frsize) < 1 << 20
    }

    private func growIfNearlyFull() {
        let (used, size) = usage()
        if used > size / 4 * 3 { grow() }
    }

    private func grow() {
        pthread_rwlock_wrlock(&resizeLock)
        defer { pthread_rwlock_unlock(&resizeLock) }
        let newSize = mapSize * 2
        if mdb_env_set_mapsize(env, newSize) == 0 { mapSize = newSize }
    }
}
