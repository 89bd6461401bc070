import DepotHashing
import Glibc
import Synchronization

/// One signed-in browser: who it is and the token its forms must carry.
struct ConsoleSession: Sendable {
    let id: String
    let accessKey: String
    /// Sent back with every POST form (CSRF): a cross-site page can make the browser post, but
    /// cannot read a console page to learn this.
    let csrfToken: String
    let created: Int64
    var lastSeen: Int64
}

/// The console's sessions, in memory only (a restart signs everyone out). Bounded: at most
/// `capacity` sessions; a session unused for `idleSeconds` or older than `lifetimeSeconds` is
/// gone, and when full the least recently used one makes room.
final class SessionStore: Sendable {
    let capacity: Int
    let idleSeconds: Int64
    let lifetimeSeconds: Int64
    /// Seconds on a clock that only goes forward; tests pass their own.
    let clock: @Sendable () -> Int64
    private let sessions = Mutex<[String: ConsoleSession]>([:])

    init(
        capacity: Int = 1024, idleSeconds: Int64 = 30 * 60, lifetimeSeconds: Int64 = 12 * 3600,
        clock: @escaping @Sendable () -> Int64 = SessionStore.now
    ) {
        self.capacity = capacity
        self.idleSeconds = idleSeconds
        self.lifetimeSeconds = lifetimeSeconds
        self.clock = clock
    }

    @Sendable static func now() -> Int64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return Int64(t.tv_sec)
    }

    /// A fresh random token (256 bits, hex): session ids and CSRF tokens.
    static func token() -> String { Hex.encode(secureRandomBytes(32)) }

    /// A new session for `accessKey`, always under a new id: an id the browser held before
    /// signing in (set by anyone) never becomes a signed-in session (no session fixation).
    func create(accessKey: String) -> ConsoleSession {
        let now = clock()
        let session = ConsoleSession(
            id: Self.token(), accessKey: accessKey, csrfToken: Self.token(), created: now, lastSeen: now)
        sessions.withLock { table in
            table = table.filter { !expired($0.value, now: now) }
            if table.count >= capacity, let oldest = table.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                table[oldest.key] = nil
            }
            table[session.id] = session
        }
        return session
    }

    /// The live session of `id` (its idle clock restarted), or nil.
    func session(_ id: String) -> ConsoleSession? {
        let now = clock()
        return sessions.withLock { table in
            guard var session = table[id] else { return nil }
            if expired(session, now: now) {
                table[id] = nil
                return nil
            }
            session.lastSeen = now
            table[id] = session
            return session
        }
    }

    func remove(_ id: String) { _ = sessions.withLock { $0.removeValue(forKey: id) } }

    var count: Int { sessions.withLock { $0.count } }

    private func expired(_ session: ConsoleSession, now: Int64) -> Bool {
        now - session.lastSeen > idleSeconds || now - session.created > lifetimeSeconds
    }
}
