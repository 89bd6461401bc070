/// Why a Kafka send failed. The descriptions are written for an operator reading `depot events status`
/// or a log line: they say what failed and carry the broker's or librdkafka's own words.
public enum KafkaProducerError: Error, Equatable, CustomStringConvertible {
    /// A setting is missing or librdkafka refused it (the property and librdkafka's reason).
    case invalidSettings(String)
    /// Some messages were not acknowledged. `reason` is librdkafka's error for the first of them, and
    /// `brokerError` the last connection-level error it reported (refused connection, failed
    /// authentication, TLS failure), which usually says why.
    case deliveryFailed(failed: Int, of: Int, reason: String, brokerError: String?)
    /// `shutdown()` was called.
    case shutDown

    public var description: String {
        switch self {
        case .invalidSettings(let reason):
            return "Kafka producer settings: \(reason)"
        case .deliveryFailed(let failed, let total, let reason, let brokerError):
            var text = "Kafka did not acknowledge \(failed) of \(total) message(s): \(reason)"
            if let brokerError { text += " (last broker error: \(brokerError))" }
            return text
        case .shutDown:
            return "Kafka producer is shut down"
        }
    }
}

/// Why an AMQP publish failed, in the same operator-facing style.
public enum AMQPPublisherError: Error, Equatable, CustomStringConvertible {
    /// The URL or another setting cannot work.
    case invalidSettings(String)
    /// No connection could be made or logged in (unreachable broker, refused login, unknown vhost, TLS).
    case connectionFailed(String)
    /// The connection broke while publishing or waiting for confirms; the batch may be partly delivered.
    case connectionLost(String)
    /// The broker closed the channel, e.g. `404 NOT_FOUND - no exchange 'x' in vhost '/'`.
    case channelClosed(code: UInt16, text: String)
    /// The broker answered, but did not take every message: `nacked` were refused (basic.nack), and
    /// `unroutable` were returned because no queue was bound for them (only with `mandatory`).
    case notConfirmed(nacked: Int, unroutable: Int, of: Int)
    /// The broker did not confirm every message within the confirm timeout.
    case confirmTimeout(unconfirmed: Int, of: Int)
    /// `shutdown()` was called.
    case shutDown

    public var description: String {
        switch self {
        case .invalidSettings(let reason):
            return "AMQP publisher settings: \(reason)"
        case .connectionFailed(let reason):
            return "AMQP connection failed: \(reason)"
        case .connectionLost(let reason):
            return "AMQP connection lost while publishing: \(reason)"
        case .channelClosed(let code, let text):
            return "AMQP broker closed the channel: \(code) \(text)"
        case .notConfirmed(let nacked, let unroutable, let total):
            var parts: [String] = []
            if nacked > 0 { parts.append("\(nacked) refused (nack)") }
            if unroutable > 0 { parts.append("\(unroutable) unroutable (no queue bound for the routing key)") }
            return "AMQP broker did not take \(nacked + unroutable) of \(total) message(s): "
                + parts.joined(separator: ", ")
        case .confirmTimeout(let unconfirmed, let total):
            return "AMQP broker did not confirm \(unconfirmed) of \(total) message(s) in time"
        case .shutDown:
            return "AMQP publisher is shut down"
        }
    }

    /// Failures after which the connection is unusable, so a retry needs a new one.
    var breaksConnection: Bool {
        switch self {
        case .connectionFailed, .connectionLost, .confirmTimeout: true
        default: false
        }
    }
}
