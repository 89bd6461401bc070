import DepotConfig
import DepotEngine
import Logging
import PostgresNIO

/// Cluster mode's `UploadLocks`: a tus PATCH or DELETE on any node has its upload to itself,
/// through a PostgreSQL advisory lock per upload taken on this node's own session (one
/// connection outside the index's pool, where a session lock would follow the connection to
/// other users).
///
/// Why a session's advisory lock and not a lease row: it needs no renewal while a long PATCH
/// body comes in, and it cannot outlive its holder. When a node dies (kill -9, a crash) its
/// socket closes and PostgreSQL ends the session and frees its locks at once, so the agent's
/// retry through another node goes on; a node that vanished from the network without closing
/// its socket is noticed through TCP keepalives (about 25 s), as for maintenance leadership.
///
/// Session locks are re-entrant within the session, so this node's own requests are kept apart
/// here (`held`) before the database is asked. A lock is good only as long as the session it was
/// taken on: `stillHeld` asks that session before a PATCH's bytes become part of the upload, and
/// once the session is gone (the database went away) every lock taken on it counts as lost.
public actor AdvisoryUploadLocks: UploadLocks {
    let location: PostgresLocation
    let node: String
    let logger: Logger
    private var connection: PostgresConnection?
    private var opening: Task<PostgresConnection, any Error>?
    /// Counts sessions opened: a lock is the session's it was taken on.
    private var session = 0
    /// Upload ids with a lock this node holds or is taking, and the session holding it (0 while
    /// it is being taken).
    private var held: [String: Int] = [:]

    /// The bound on connecting and on each query.
    public static let timeoutSeconds: Double = 5

    public init(location: PostgresLocation, node: String, logger: Logger) {
        self.location = location
        self.node = node
        self.logger = logger
    }

    /// An upload's lock key: FNV-1a (64 bits) of `tus:` and its id, stable across nodes and
    /// versions (Swift's `Hasher` is seeded per process). Two uploads sharing a key (about one
    /// chance in 2^64 per pair) would only make one wait for the other's PATCH (423, retried).
    public static func lockKey(upload id: String) -> Int64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in ("tus:" + id).utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x100_0000_01b3
        }
        return Int64(bitPattern: hash)
    }

    /// The name the session shows in `pg_stat_activity` (with `pg_locks`: who holds an upload).
    public static func applicationName(node: String) -> String { "depot upload locks \(node)" }

    public func tryLock(_ id: String) async throws -> Bool {
        guard held[id] == nil else { return false }
        held[id] = 0
        do {
            let connection = try await openConnection()
            let taking = session
            let key = Self.lockKey(upload: id)
            if try await ask(connection, "SELECT pg_try_advisory_lock(\(key))", operation: "locking upload \(id)") {
                held[id] = taking
                return true
            }
            held[id] = nil
            return false
        } catch {
            held[id] = nil
            await dropConnection(after: error)
            throw EngineError.indexUnavailable("cannot lock upload \(id) in the cluster index: \(error)")
        }
    }

    public func stillHeld(_ id: String) async -> Bool {
        guard let taken = held[id], taken == session, let connection, !connection.isClosed else { return false }
        do {
            // An answer on the session proves it lives, and with it every lock taken on it.
            return try await ask(connection, "SELECT true", operation: "checking the upload locks' session")
                && taken == session
        } catch {
            await dropConnection(after: error)
            return false
        }
    }

    public func unlock(_ id: String) async {
        guard let taken = held.removeValue(forKey: id), taken == session, let connection, !connection.isClosed else {
            return
        }
        do {
            _ = try await ask(
                connection, "SELECT pg_advisory_unlock(\(Self.lockKey(upload: id)))", operation: "unlocking upload \(id)")
        } catch {
            // Ending the session frees the lock; it also loses the others (stillHeld says so).
            await dropConnection(after: error)
        }
    }

    /// The session holding this node's upload locks, opened when first needed.
    private func openConnection() async throws -> PostgresConnection {
        if let connection, !connection.isClosed { return connection }
        if connection != nil { await dropConnection(after: nil) }
        if let opening { return try await opening.value }
        let (location, node, logger) = (location, node, logger)
        let task = Task { try await Self.connect(location: location, node: node, logger: logger) }
        opening = task
        defer { opening = nil }
        let opened = try await task.value
        connection = opened
        session += 1
        return opened
    }

    /// Forgets the session, and with it every lock taken on it (closing it makes sure
    /// PostgreSQL ends it and frees them).
    private func dropConnection(after error: (any Error)?) async {
        guard let connection else { return }
        self.connection = nil
        session += 1
        let lost = held.filter { $0.value != 0 }.count
        if lost > 0 {
            logger.warning(
                "tus: node \(node) lost its session to the cluster index\(error.map { " (\($0))" } ?? ""); \(lost) PATCH or DELETE requests in progress lose their upload's lock and keep nothing"
            )
        }
        try? await connection.close()
    }

    private func ask(_ connection: PostgresConnection, _ query: PostgresQuery, operation: String) async throws -> Bool {
        try await AdvisoryLockSession.ask(
            connection, query, operation: operation, timeoutSeconds: Self.timeoutSeconds, logger: logger)
    }

    static func connect(location: PostgresLocation, node: String, logger: Logger) async throws -> PostgresConnection {
        try await AdvisoryLockSession.open(
            location: location, applicationName: applicationName(node: node), purpose: "the upload locks' session",
            timeoutSeconds: timeoutSeconds, logger: logger)
    }
}
