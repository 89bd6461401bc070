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
///
/// Cluster mode (`sharedKey`, derived from `cluster.keyFile`): a browser behind a load balancer
/// without stickiness signs in through one node and goes on through any other, so a session id
/// is signed (`SharedSessionToken`) and carries its account and its start on the wall clock, and
/// its CSRF token derives from it; a node that has not seen an id checks the signature and takes
/// the session in. What stays per node: the idle clock (a node taking a session in starts it
/// anew; the lifetime holds on every node) and sign-out, which ends the session on the node that
/// answered it for good (`ended`) and clears the browser's cookie, while a copy of the cookie kept
/// elsewhere stays valid on the other nodes until it is idle there or its lifetime ends.
final class SessionStore: Sendable {
    let capacity: Int
    let idleSeconds: Int64
    let lifetimeSeconds: Int64
    /// Seconds on a clock that only goes forward; tests pass their own.
    let clock: @Sendable () -> Int64
    /// Seconds since 1970, the clock nodes share (cluster mode's session starts).
    let wallClock: @Sendable () -> Int64
    /// Cluster mode's key signing session ids; nil: random ids known to this process only.
    let sharedKey: [UInt8]?
    private let sessions = Mutex<[String: ConsoleSession]>([:])
    /// Cluster mode: ids this node ended (signed out, or idle or past their lifetime here), with
    /// when, so a valid signature never brings them back on this node. Bounded: an entry goes
    /// once its session's lifetime is surely over, and past `4 × capacity` the oldest goes.
    private let ended = Mutex<[String: Int64]>([:])

    init(
        capacity: Int = 1024, idleSeconds: Int64 = 30 * 60, lifetimeSeconds: Int64 = 12 * 3600,
        clock: @escaping @Sendable () -> Int64 = SessionStore.now, sharedKey: [UInt8]? = nil,
        wallClock: @escaping @Sendable () -> Int64 = { Int64(time(nil)) }
    ) {
        self.capacity = capacity
        self.idleSeconds = idleSeconds
        self.lifetimeSeconds = lifetimeSeconds
        self.clock = clock
        self.sharedKey = sharedKey
        self.wallClock = wallClock
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
        let session: ConsoleSession
        if let sharedKey {
            let id = SharedSessionToken.make(accessKey: accessKey, started: wallClock(), key: sharedKey)
            session = ConsoleSession(
                id: id, accessKey: accessKey, csrfToken: SharedSessionToken.csrfToken(id: id, key: sharedKey), created: now,
                lastSeen: now)
        } else {
            session = ConsoleSession(id: Self.token(), accessKey: accessKey, csrfToken: Self.token(), created: now, lastSeen: now)
        }
        insert(session, now: now)
        return session
    }

    private func insert(_ session: ConsoleSession, now: Int64) {
        let gone = sessions.withLock { table in
            let gone = table.keys.filter { expired(table[$0]!, now: now) }
            for id in gone { table[id] = nil }
            if table.count >= capacity, let oldest = table.min(by: { $0.value.lastSeen < $1.value.lastSeen }) {
                table[oldest.key] = nil
            }
            table[session.id] = session
            return gone
        }
        remember(ended: gone, now: now)
    }

    /// Cluster mode: these ids may not be taken in again on this node (`ended`).
    private func remember(ended ids: [String], now: Int64) {
        guard sharedKey != nil, !ids.isEmpty else { return }
        ended.withLock { ended in
            for id in ids { ended[id] = now }
            ended = ended.filter { now - $0.value <= lifetimeSeconds }
            while ended.count > 4 * capacity, let oldest = ended.min(by: { $0.value < $1.value }) { ended[oldest.key] = nil }
        }
    }

    /// A session another node signed in (cluster mode): taken in when its signature holds and its
    /// lifetime has not ended, its idle clock starting now.
    private func adopted(_ id: String, now: Int64) -> ConsoleSession? {
        guard let sharedKey, ended.withLock({ $0[id] == nil }), let token = SharedSessionToken.verify(id, key: sharedKey)
        else { return nil }
        let age = wallClock() - token.started
        // A start in the future beyond clock skew is not one this cluster made.
        guard age >= -300, age <= lifetimeSeconds else { return nil }
        let session = ConsoleSession(
            id: id, accessKey: token.accessKey, csrfToken: SharedSessionToken.csrfToken(id: id, key: sharedKey),
            created: now - max(0, age), lastSeen: now)
        insert(session, now: now)
        return session
    }

    /// The live session of `id` (its idle clock restarted), or nil.
    func session(_ id: String) -> ConsoleSession? {
        let now = clock()
        if sharedKey != nil, sessions.withLock({ $0[id] == nil }) { return adopted(id, now: now) }
        let (session, endedNow) = sessions.withLock { table -> (ConsoleSession?, Bool) in
            guard var session = table[id] else { return (nil, false) }
            if expired(session, now: now) {
                table[id] = nil
                return (nil, true)
            }
            session.lastSeen = now
            table[id] = session
            return (session, false)
        }
        if endedNow { remember(ended: [id], now: now) }
        return session
    }

    func remove(_ id: String) {
        _ = sessions.withLock { $0.removeValue(forKey: id) }
        remember(ended: [id], now: clock())
    }

    var count: Int { sessions.withLock { $0.count } }

    private func expired(_ session: ConsoleSession, now: Int64) -> Bool {
        now - session.lastSeen > idleSeconds || now - session.created > lifetimeSeconds
    }
}

/// Cluster mode's console session ids: `<nonce>.<started>.<account>.<signature>`, the nonce 128
/// random bits (hex), `started` the wall clock's seconds, the account's access key in hex, and
/// an HMAC-SHA256 over the rest under the key the nodes share. The CSRF token is an HMAC of the
/// id under the same key, so every node derives the same one and none can be forged.
enum SharedSessionToken {
    static func make(accessKey: String, started: Int64, key: [UInt8]) -> String {
        let body = Hex.encode(secureRandomBytes(16)) + "." + String(started) + "." + Hex.encode(Array(accessKey.utf8))
        return body + "." + signature(body, key: key)
    }

    /// The account and start of a well-formed id whose signature holds; nil otherwise.
    static func verify(_ id: String, key: [UInt8]) -> (accessKey: String, started: Int64)? {
        guard id.utf8.count <= 1024 else { return nil }
        let parts = id.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4, let started = Int64(parts[1]) else { return nil }
        let body = parts[0..<3].joined(separator: ".")
        guard constantTimeEquals(String(parts[3]), signature(body, key: key)),
            let accessKey = Hex.decode(String(parts[2])).map({ String(decoding: $0, as: UTF8.self) })
        else { return nil }
        return (accessKey, started)
    }

    static func csrfToken(id: String, key: [UInt8]) -> String {
        Hex.encode(HMAC.sha256(key: key, message: Array("depot-console-csrf|\(id)".utf8)))
    }

    private static func signature(_ body: String, key: [UInt8]) -> String {
        Hex.encode(HMAC.sha256(key: key, message: Array("depot-console-session|\(body)".utf8)))
    }
}
