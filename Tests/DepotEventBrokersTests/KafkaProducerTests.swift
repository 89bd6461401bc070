import DepotEventBrokers
import Foundation
import Testing

/// KafkaProducer against a real Kafka-compatible broker (tansu) started by each test on 127.0.0.1.
@Suite(.serialized)
struct KafkaProducerTests {
    /// 100 events for 5 cameras, as the outbox would hand them over: key = object key, value = JSON.
    static func events(_ range: Range<Int>) -> [(key: [UInt8], value: [UInt8])] {
        range.map { index in
            (key: Array("camera-\(index % 5)".utf8), value: Array("{\"sequence\":\(index)}".utf8))
        }
    }

    static func text(_ bytes: [UInt8]) -> String { String(decoding: bytes, as: UTF8.self) }
    static func describe(_ message: ConsumedKafkaMessage) -> String { "\(text(message.key)) \(text(message.value))" }
    static func describe(_ event: (key: [UInt8], value: [UInt8])) -> String { "\(text(event.key)) \(text(event.value))" }

    @Test func everyMessageArrivesOnceWithItsKeyInOrderPerKey() async throws {
        try requireTansuCompatibleLibrdkafka()
        try await BrokerProcess.startTansu().use { broker in
            let producer = try KafkaProducer(settings: KafkaSettings(brokers: [broker.address], topic: "depot-events"))
            // Several batches, as the dispatcher sends them; each send returns only once acknowledged.
            for batch in [0..<1, 1..<40, 40..<100] { try await producer.send(Self.events(batch)) }
            let consumed = try consumeKafka(brokers: broker.address, topic: "depot-events", count: 100)

            #expect(consumed.count == 100)
            let sent = Self.events(0..<100)
            #expect(Set(consumed.map(Self.describe)) == Set(sent.map(Self.describe)))
            for camera in 0..<5 {
                let key = Array("camera-\(camera)".utf8)
                let ofKey = consumed.filter { message in message.key == key }
                // One key, one partition, and the partition's offsets follow the order of sending.
                #expect(Set(ofKey.map(\.partition)).count == 1)
                let byOffset = ofKey.sorted { first, second in first.offset < second.offset }.map(\.value)
                let expected = sent.filter { event in event.key == key }.map(\.value)
                #expect(byOffset.map(Self.text) == expected.map(Self.text))
            }
            await producer.shutdown()
        }
    }

    @Test func brokerDownFailsClearlyInTimeThenWorksOnceTheBrokerIsUp() async throws {
        try requireTansuCompatibleLibrdkafka()
        let port = try freePort()
        let producer = try KafkaProducer(
            settings: KafkaSettings(brokers: ["127.0.0.1:\(port)"], topic: "outage", deliveryTimeout: .seconds(2)))

        let started = ContinuousClock.now
        let failure = await #expect(throws: KafkaProducerError.self) { try await producer.send(Self.events(0..<10)) }
        #expect(ContinuousClock.now - started < .seconds(15))
        guard case .deliveryFailed(let failed, let total, let reason, let brokerError)? = failure else {
            Issue.record("expected deliveryFailed, got \(String(describing: failure))")
            await producer.shutdown()
            return
        }
        #expect(failed == 10 && total == 10)
        #expect(reason.localizedCaseInsensitiveContains("timed out"))
        #expect(brokerError?.contains("127.0.0.1:\(port)") == true, "broker error: \(brokerError ?? "none")")
        #expect(failure?.description.contains("Kafka did not acknowledge 10 of 10") == true)

        try await BrokerProcess.startTansu(port: port).use { broker in
            try await producer.send(Self.events(10..<30))
            let consumed = try consumeKafka(brokers: broker.address, topic: "outage", count: 20)
            #expect(consumed.map(Self.describe).sorted() == Self.events(10..<30).map(Self.describe).sorted())
        }
        await producer.shutdown()
    }

    @Test func saslCredentialsReachTheBroker() async throws {
        try requireTansuCompatibleLibrdkafka()
        // tansu with --authentication knows no users yet (its memory storage starts empty), so the
        // SCRAM exchange must end in the broker refusing this one: proof that the mechanism, user and
        // password went out, and that the refusal comes back as a clear error.
        try await BrokerProcess.startTansu(authentication: true).use { broker in
            let settings = KafkaSettings(
                brokers: [broker.address], topic: "secured",
                sasl: .init(mechanism: .scramSHA256, username: "camera-site-7", password: "wrong"),
                deliveryTimeout: .seconds(3))
            let producer = try KafkaProducer(settings: settings)
            let failure = await #expect(throws: KafkaProducerError.self) { try await producer.send(Self.events(0..<3)) }
            if case .deliveryFailed(_, _, _, let brokerError)? = failure {
                #expect(brokerError?.localizedCaseInsensitiveContains("SASL") == true, "broker error: \(brokerError ?? "none")")
            } else {
                Issue.record("expected deliveryFailed, got \(String(describing: failure))")
            }
            await producer.shutdown()
        }
    }

    @Test func invalidSettingsAreRefusedBeforeAnyBrokerIsContacted() throws {
        #expect(throws: KafkaProducerError.invalidSettings("brokers: at least one host:port is needed")) {
            _ = try KafkaProducer(settings: KafkaSettings(brokers: [], topic: "t"))
        }
        #expect(throws: KafkaProducerError.invalidSettings("topic: must not be empty")) {
            _ = try KafkaProducer(settings: KafkaSettings(brokers: ["127.0.0.1:1"], topic: ""))
        }
        let failure = #expect(throws: KafkaProducerError.self) {
            _ = try KafkaProducer(
                settings: KafkaSettings(brokers: ["127.0.0.1:1"], topic: "t", extraProperties: ["no.such.property": "1"]))
        }
        #expect(failure?.description.contains("no.such.property") == true, "\(String(describing: failure))")
    }

    @Test func sendAfterShutdownIsRefused() async throws {
        let producer = try KafkaProducer(settings: KafkaSettings(brokers: ["127.0.0.1:1"], topic: "t"))
        await producer.shutdown()
        await #expect(throws: KafkaProducerError.shutDown) { try await producer.send(Self.events(0..<1)) }
    }
}
