import DepotEngine

/// One formatted event on its way to a sink.
public struct EventMessage: Sendable {
    /// The object key: the Kafka message key, the SQS deduplication hint, so consumers can
    /// partition by recording.
    public let key: String
    /// The payload, already in the sink's format (JSON).
    public let body: [UInt8]
    /// The outbox sequence of the event.
    public let sequence: UInt64

    public init(key: String, body: [UInt8], sequence: UInt64) {
        self.key = key
        self.body = body
        self.sequence = sequence
    }
}

/// A destination of events. `deliver` returns only once the destination has accepted every
/// message of the batch (in order), or throws; the dispatcher then retries the whole batch, so
/// delivery is at least once and a receiver may see a message twice, never out of order per key.
public protocol EventSink: Sendable {
    func deliver(_ messages: [EventMessage]) async throws
    func shutdown() async
}

extension EventSink {
    public func shutdown() async {}
}

/// A delivery failure with what the destination said.
public struct EventSinkError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
