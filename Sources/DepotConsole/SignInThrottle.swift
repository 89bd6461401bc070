import Synchronization

/// Failed sign-ins per client address: after `limit` failures within `windowSeconds`, that
/// address is refused (429) until the window has passed, whatever it sends, so a secret cannot
/// be guessed at speed. A success does not clear the count: signing in with one's own keys
/// between guesses at another account's secret must not reset the limit. Bounded: at most `capacity` addresses are remembered.
final class SignInThrottle: Sendable {
    let limit: Int
    let windowSeconds: Int64
    let capacity: Int
    private let failures = Mutex<[String: [Int64]]>([:])

    init(limit: Int = 5, windowSeconds: Int64 = 300, capacity: Int = 4096) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.capacity = capacity
    }

    /// Whether `address` may try to sign in now.
    func mayTry(_ address: String) -> Bool {
        let now = SessionStore.now()
        return failures.withLock { table in
            let recent = (table[address] ?? []).filter { now - $0 < windowSeconds }
            table[address] = recent.isEmpty ? nil : recent
            return recent.count < limit
        }
    }

    func recordFailure(_ address: String) {
        let now = SessionStore.now()
        failures.withLock { table in
            if table[address] == nil, table.count >= capacity {
                table = table.filter { entry in entry.value.contains { now - $0 < windowSeconds } }
                if table.count >= capacity { table.removeAll() }
            }
            table[address, default: []].append(now)
        }
    }
}
