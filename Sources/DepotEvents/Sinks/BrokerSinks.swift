import DepotConfig
import DepotEventBrokers
import Logging

/// Kafka: each event a message keyed by its object key (so one recording's events stay in one
/// partition, in order), delivered once the brokers acknowledged all of a batch (acks=all).
final class KafkaSink: EventSink {
    let producer: KafkaProducer

    init(settings: SinkSettings, logger: Logger) throws {
        let sasl =
            settings.saslMechanism.isEmpty
            ? nil
            : KafkaSettings.SASL(
                mechanism: KafkaSettings.SASLMechanism(rawValue: settings.saslMechanism) ?? .plain,
                username: settings.username, password: settings.password)
        producer = try KafkaProducer(
            settings: KafkaSettings(
                brokers: settings.brokers, topic: settings.topic, sasl: sasl, tls: settings.tls,
                caFile: settings.caFile.isEmpty ? nil : settings.caFile,
                deliveryTimeout: .seconds(settings.timeout)),
            logger: logger)
    }

    func deliver(_ messages: [EventMessage]) async throws {
        try await producer.send(messages.map { (key: Array($0.key.utf8), value: $0.body) })
    }

    func shutdown() async { await producer.shutdown() }
}

/// RabbitMQ (AMQP 0-9-1): each event published to the exchange with the routing key, persistent,
/// with its sequence as message id; a batch counts once the broker confirmed every message.
final class RabbitMQSink: EventSink {
    let publisher: AMQPPublisher

    init(settings: SinkSettings) throws {
        publisher = try AMQPPublisher(
            settings: AMQPSettings(
                url: settings.url, exchange: settings.exchange, routingKey: settings.routingKey,
                caFile: settings.caFile.isEmpty ? nil : settings.caFile, connectTimeout: .seconds(settings.timeout),
                confirmTimeout: .seconds(settings.timeout)))
    }

    func deliver(_ messages: [EventMessage]) async throws {
        try await publisher.publish(messages.map { AMQPMessage(body: $0.body, messageID: String($0.sequence)) })
    }

    func shutdown() async { await publisher.shutdown() }
}
