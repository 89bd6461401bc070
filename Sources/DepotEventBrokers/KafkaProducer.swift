import Logging

/// Publishes messages to one Kafka topic and tells the caller when the brokers have them.
///
/// Built on librdkafka (Confluent's C client, the one most Kafka clients in other languages wrap), so
/// the protocol, SASL, TLS, retries and idempotence are its well-tested code, not ours. `send` returns
/// once every in-sync replica acknowledged every message (`acks=all`), which is what the event outbox
/// needs before it may drop an event. The waiting happens on a thread of the producer's own, never on a
/// Swift concurrency thread.
///
/// One producer per sink: sends run one after another, in the order they were called.
public final class KafkaProducer: Sendable {
    public let settings: KafkaSettings
    private let client: KafkaClient
    private let thread: BrokerThread

    /// Checks the settings with librdkafka and prepares the connection; contacts no broker yet.
    /// - Throws: `KafkaProducerError.invalidSettings` naming the property librdkafka refused.
    public init(settings: KafkaSettings, logger: Logger = Logger(label: "depot.events.kafka")) throws(KafkaProducerError) {
        self.settings = settings
        self.client = try KafkaClient(settings: settings, logger: logger)
        self.thread = BrokerThread(name: "kafka \(settings.topic)")
    }

    deinit {
        let client = self.client
        thread.enqueue { client.close(flushTimeout: nil) }
        thread.stop()
    }

    /// Sends `messages` (key = the object key, value = the event payload) and returns when the brokers
    /// acknowledged all of them. Messages with the same key go to the same partition, in this order.
    ///
    /// - Throws: `KafkaProducerError.deliveryFailed` when any message was not acknowledged within
    ///   `settings.deliveryTimeout` (the others may have been delivered: callers retry the batch, and
    ///   consumers see an event at least once); `.shutDown` after `shutdown()`.
    public func send(_ messages: [(key: [UInt8], value: [UInt8])]) async throws {
        guard !messages.isEmpty else { return }
        let client = self.client
        do {
            try await thread.run { try client.send(messages) }
        } catch is BrokerThread.Stopped {
            throw KafkaProducerError.shutDown
        }
    }

    /// Waits up to `flushTimeout` for messages still queued, closes the connections and ends the
    /// producer's thread. Later sends throw `.shutDown`.
    public func shutdown(flushTimeout: Duration = .seconds(5)) async {
        let client = self.client
        _ = try? await thread.run { client.shutdown(flushTimeout: flushTimeout) }
        thread.stop()
    }
}
