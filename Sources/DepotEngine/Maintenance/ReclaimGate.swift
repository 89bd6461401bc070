import Synchronization

/// Decides when a compacted segment file may really be deleted.
///
/// Uploads and reads resolve chunk locations once and then read or reference them later, so a
/// segment that compaction has emptied must stay on disk until every upload and read that began
/// before it was retired has finished. Each one holds a lease stamped with the epoch in which it
/// began; retiring a segment closes the epoch, and the file goes once no older lease is left.
final class ReclaimGate: Sendable {
    private struct State {
        var epoch: UInt64 = 0
        var active: [UInt64: Int] = [:]
        var retired: Set<UInt32> = []
        var waiting: [(epoch: UInt64, segment: UInt32)] = []
    }

    private let state = Mutex(State())

    func acquire() -> UInt64 {
        state.withLock { st in
            st.active[st.epoch, default: 0] += 1
            return st.epoch
        }
    }

    /// Ends a lease; returns the retired segments that no lease protects any more.
    func release(_ epoch: UInt64) -> [UInt32] {
        state.withLock { st in
            st.active[epoch, default: 1] -= 1
            if st.active[epoch] == 0 { st.active[epoch] = nil }
            return Self.collect(&st)
        }
    }

    /// Marks a segment as emptied. From now on commits copy out of it instead of pointing into
    /// it; its file goes once every lease older than this call has ended (see `collect`).
    func retire(_ segment: UInt32) {
        state.withLock { st in
            st.retired.insert(segment)
            st.waiting.append((st.epoch, segment))
            st.epoch += 1
        }
    }

    /// Ends the current epoch and returns it: leases taken up to now belong to it or older ones.
    func closeEpoch() -> UInt64 {
        state.withLock { st in
            st.epoch += 1
            return st.epoch - 1
        }
    }

    /// Whether every lease of `epoch` or older has ended.
    func leasesEnded(upTo epoch: UInt64) -> Bool {
        state.withLock { ($0.active.keys.min() ?? UInt64.max) > epoch }
    }

    /// The retired segments no lease protects any more.
    func collect() -> [UInt32] { state.withLock { Self.collect(&$0) } }

    func isRetired(_ segment: UInt32) -> Bool { state.withLock { $0.retired.contains(segment) } }

    private static func collect(_ st: inout State) -> [UInt32] {
        let oldest = st.active.keys.min() ?? UInt64.max
        var free: [UInt32] = []
        st.waiting.removeAll { item in
            if item.epoch < oldest {
                free.append(item.segment)
                return true
            }
            return false
        }
        return free
    }
}

/// Held by an upload or a read for its whole life; frees retired segments when it ends.
public final class ReclaimLease: @unchecked Sendable {
    private let gate: ReclaimGate
    private let epoch: UInt64
    private let onFree: ([UInt32]) -> Void

    init(gate: ReclaimGate, onFree: @escaping ([UInt32]) -> Void) {
        self.gate = gate
        self.epoch = gate.acquire()
        self.onFree = onFree
    }

    deinit {
        let free = gate.release(epoch)
        if !free.isEmpty { onFree(free) }
    }
}

extension Engine {
    func lease() -> ReclaimLease {
        ReclaimLease(gate: reclaim) { [store] segments in segments.forEach(store.remove) }
    }
}
