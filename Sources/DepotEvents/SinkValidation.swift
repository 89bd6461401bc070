import DepotEngine
import Foundation

/// `Validate` for a sink (the admin API's `POST /admin/v1/events/{name}/validate`, the console's
/// button): one test event sent through the sink's own delivery path, a fresh connection made
/// from its settings, as S3 sends `s3:TestEvent` when a notification configuration is saved.
/// It is not an outbox event: the sink's cursor, counters and last error stay as they were.
extension EventDispatcher {
    /// How long a test delivery may take before it counts as failed.
    static let validationSeconds: Int64 = 10
    /// The HTTP sinks' request deadline during a test.
    static let requestSeconds: Int64 = 3

    /// nil when no sink has that name; else whether the destination accepted the test event,
    /// with what it said when not.
    public func sendTestEvent(sink name: String) async -> (delivered: Bool, error: String)? {
        guard var sink = settings.withLock({ $0 }).sinks.first(where: { $0.name == name }) else { return nil }
        // The sink's own request deadline, shortened: a destination that refuses connections is
        // retried by the HTTP client until it, and the test then reports the client's own error.
        sink.timeout = min(sink.timeout, Int(Self.requestSeconds))
        let time = ISO8601DateFormatter().string(from: Date())
        let body = #"{"Service":"Depot","Event":"s3:TestEvent","Time":"\#(time)","Sink":"\#(name)"}"#
        let message = EventMessage(key: "depot-test-event", body: Array(body.utf8), sequence: 0)
        let target: any EventSink
        do { target = try makeSink(sink) } catch { return (false, "\(error)") }
        let outcome: (Bool, String)
        do {
            // Bounded: a destination that never answers fails the check instead of holding the page.
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { try await target.deliver([message]) }
                group.addTask {
                    try await Task.sleep(for: .seconds(Self.validationSeconds))
                    throw EventSinkError("no answer within \(Self.validationSeconds) s")
                }
                try await group.next()
                group.cancelAll()
            }
            outcome = (true, "")
        } catch {
            outcome = (false, "\(error)")
        }
        await target.shutdown()
        return outcome
    }
}
