import CoreMetrics
import NIOCore
import Synchronization

/// The live request trace behind `GET /admin/v1/trace` (`depot trace`): every finished request
/// is offered to each subscriber whose filter admits it.
///
/// Bounded by design, so a trace never slows or grows the server: at most `maxSubscribers`
/// at once, and each has a buffer of `bufferLines` records; when its reader falls behind, new
/// records are dropped and counted (the stream then says how many), never waited for.
final class TraceHub: Sendable {
    static let maxSubscribers = 4
    static let bufferLines = 1000

    /// Which requests a subscriber sees.
    struct Filter: Sendable {
        var errorsOnly = false
        var account: String?
        var bucket: String?
        var api: String?

        func admits(_ record: AccessRecord) -> Bool {
            if errorsOnly && !record.isError { return false }
            // The account by name or by the access key presented (a refused key has no account).
            if let account, record.account != account && record.accessKey != account { return false }
            if let bucket, record.bucket != bucket { return false }
            if let api, record.api != api { return false }
            return true
        }
    }

    enum Event: Sendable {
        case request(AccessRecord)
        /// Written as an empty line now and then, so a reader that went away is noticed even
        /// when no request passes the filter.
        case heartbeat
    }

    final class Subscription: Sendable {
        let id: UInt64
        let filter: Filter
        let events: AsyncStream<Event>
        let continuation: AsyncStream<Event>.Continuation
        private let droppedSinceRead = Atomic<Int>(0)

        init(id: UInt64, filter: Filter) {
            self.id = id
            self.filter = filter
            (events, continuation) = AsyncStream.makeStream(
                of: Event.self, bufferingPolicy: .bufferingOldest(TraceHub.bufferLines))
        }

        func offer(_ record: AccessRecord) {
            if case .dropped = continuation.yield(.request(record)) {
                droppedSinceRead.add(1, ordering: .relaxed)
                Counter(label: "depot_trace_dropped_total").increment()
            }
        }

        /// Records dropped since the last call (for the stream's `dropped` notice).
        func takeDropped() -> Int { droppedSinceRead.exchange(0, ordering: .relaxed) }
    }

    private let subscribers = Mutex<[UInt64: Subscription]>([:])
    private let nextId = Atomic<UInt64>(0)

    /// A new subscription, or nil when `maxSubscribers` are already tracing.
    func subscribe(_ filter: Filter) -> Subscription? {
        let id = nextId.wrappingAdd(1, ordering: .relaxed).newValue
        let subscription = Subscription(id: id, filter: filter)
        let count: Int? = subscribers.withLock { all in
            guard all.count < Self.maxSubscribers else { return nil }
            all[id] = subscription
            return all.count
        }
        guard let count else { return nil }
        Gauge(label: "depot_trace_subscribers").record(count)
        return subscription
    }

    func unsubscribe(_ subscription: Subscription) {
        subscription.continuation.finish()
        let count = subscribers.withLock { all in
            all[subscription.id] = nil
            return all.count
        }
        Gauge(label: "depot_trace_subscribers").record(count)
    }

    var subscriberCount: Int { subscribers.withLock { $0.count } }

    /// Offers a finished request to every subscriber; never waits.
    func publish(_ record: AccessRecord) {
        let current = subscribers.withLock { $0.isEmpty ? [] : Array($0.values) }
        for subscription in current where subscription.filter.admits(record) { subscription.offer(record) }
    }
}

/// The connection of the request being answered: a trace stream ends when it is seen to close
/// (the heartbeat's failed write notices the rest, AdminTrace.swift).
enum ConnectionContext {
    @TaskLocal static var closed: EventLoopFuture<Void>?
}
