import Synchronization

/// Failed sign-ins per client address: after `limit` failures within `windowSeconds`, that
/// address is refused (429) until the window has passed, whatever it sends, so a secret cannot
/// be guessed at speed. A success does not clear the count: signing in with one's own keys
/// between guesses at another account's secret must not reset the limit. Bounded: at most `capacity` addresses are remembered.
final class SignInThrottle: Sendable {
    let limit: Int
    let windowSeconds: Int64
    let capacity: Int
    let clock: @Sendable () -> Int64
    private let failures = Mutex<[String: [Int64]]>([:])

    init(
        limit: Int = 5, windowSeconds: Int64 = 300, capacity: Int = 4096,
        clock: @escaping @Sendable () -> Int64 = SessionStore.now
    ) {
        self.limit = limit
        self.windowSeconds = windowSeconds
        self.capacity = capacity
        self.clock = clock
    }

    /// How many addresses are remembered (at most `capacity`).
    var addressCount: Int { failures.withLock { $0.count } }

    /// Whether `address` may try to sign in now.
    func mayTry(_ address: String) -> Bool {
        let now = clock()
        return failures.withLock { table in
            let recent = (table[address] ?? []).filter { now - $0 < windowSeconds }
            table[address] = recent.isEmpty ? nil : recent
            return recent.count < limit
        }
    }

    func recordFailure(_ address: String) {
        let now = clock()
        failures.withLock { table in
            if table[address] == nil, table.count >= capacity {
                table = table.filter { entry in entry.value.contains { now - $0 < windowSeconds } }
                // Still full: forget the address whose latest failure is oldest, not everyone's count.
                if table.count >= capacity, let stalest = table.min(by: { ($0.value.last ?? 0) < ($1.value.last ?? 0) }) {
                    table[stalest.key] = nil
                }
            }
            table[address, default: []].append(now)
        }
    }
}
