import CRdKafka
import Foundation

/// A message read back from Kafka.
struct ConsumedKafkaMessage: Equatable {
    let partition: Int32
    let offset: Int64
    let key: [UInt8]
    let value: [UInt8]
}

/// Requires the librdkafka loaded in this process to speak to tansu: Debian 12's 2.0.2 cannot (it
/// mis-skips the tagged fields of tansu's ApiVersion reply), so `make` puts the newer, ABI-compatible
/// library from the confluent-kafka wheel first on LD_LIBRARY_PATH (see README-brokers.md).
func requireTansuCompatibleLibrdkafka() throws {
    let version = rd_kafka_version()
    guard version >= 0x0201_00ff else {
        throw BrokerSetupError(
            description: "librdkafka \(String(cString: rd_kafka_version_str())) is loaded; the tansu test broker needs "
                + "2.1 or later: run the tests through `make test`/`make unit`, or with LD_LIBRARY_PATH=.build-brokers/lib "
                + "after `make deps` (see Sources/DepotEventBrokers/README-brokers.md)")
    }
}

/// Reads every message of `topic` from the beginning of each partition with librdkafka's simple
/// (group-less) consumer, until `count` arrived and then `settle` passed with nothing more, or
/// `timeout` ran out.
func consumeKafka(
    brokers: String, topic: String, count: Int, timeout: Duration = .seconds(30), settle: Duration = .milliseconds(700)
) throws -> [ConsumedKafkaMessage] {
    var errorText = [CChar](repeating: 0, count: 512)
    let configuration = rd_kafka_conf_new()
    for (name, value) in [("bootstrap.servers", brokers), ("enable.partition.eof", "false")] {
        guard rd_kafka_conf_set(configuration, name, value, &errorText, errorText.count) == RD_KAFKA_CONF_OK else {
            throw BrokerSetupError(description: "consumer \(name): \(errorMessage(errorText))")
        }
    }
    guard let consumer = rd_kafka_new(RD_KAFKA_CONSUMER, configuration, &errorText, errorText.count) else {
        throw BrokerSetupError(description: "consumer: \(errorMessage(errorText))")
    }
    defer { rd_kafka_destroy(consumer) }
    guard let handle = rd_kafka_topic_new(consumer, topic, nil) else {
        throw BrokerSetupError(description: "consumer topic \(topic)")
    }
    defer { rd_kafka_topic_destroy(handle) }

    var metadata: UnsafePointer<rd_kafka_metadata>?
    let status = rd_kafka_metadata(consumer, 0, handle, &metadata, 10_000)
    guard status == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata, metadata.pointee.topic_cnt == 1 else {
        throw BrokerSetupError(description: "metadata of \(topic): \(String(cString: rd_kafka_err2str(status)))")
    }
    let partitions = Int32(metadata.pointee.topics[0].partition_cnt)
    rd_kafka_metadata_destroy(metadata)
    guard partitions > 0 else { throw BrokerSetupError(description: "topic \(topic) has no partitions") }

    for partition in 0..<partitions {
        guard rd_kafka_consume_start(handle, partition, Int64(RD_KAFKA_OFFSET_BEGINNING)) == 0 else {
            throw BrokerSetupError(description: "consume_start \(topic)[\(partition)]")
        }
    }
    defer { for partition in 0..<partitions { rd_kafka_consume_stop(handle, partition) } }

    var messages: [ConsumedKafkaMessage] = []
    let clock = ContinuousClock()
    let deadline = clock.now + timeout
    var quietSince = clock.now
    while clock.now < deadline {
        var received = false
        for partition in 0..<partitions {
            guard let message = rd_kafka_consume(handle, partition, 50) else { continue }
            defer { rd_kafka_message_destroy(message) }
            guard message.pointee.err == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let key = message.pointee.key.map { Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.key_len)) }
            let value = message.pointee.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: message.pointee.len)) }
            messages.append(
                ConsumedKafkaMessage(
                    partition: message.pointee.partition, offset: message.pointee.offset, key: key ?? [],
                    value: value ?? []))
            received = true
        }
        if received { quietSince = clock.now }
        if messages.count >= count && clock.now - quietSince >= settle { break }
    }
    return messages
}

private func errorMessage(_ buffer: [CChar]) -> String {
    String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
}
