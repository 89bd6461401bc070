import DepotEventBrokers
import Foundation
import Testing

/// AMQPPublisher against a private RabbitMQ node (Debian's rabbitmq-server) started by each test.
@Suite(.serialized)
struct AMQPPublisherTests {
    static func messages(_ range: Range<Int>) -> [AMQPMessage] {
        range.map { AMQPMessage(body: Array("{\"sequence\":\($0)}".utf8), messageID: "event-\($0)") }
    }

    static func settings(port: Int, exchange: String, routingKey: String, mandatory: Bool = false) -> AMQPSettings {
        AMQPSettings(
            url: "amqp://guest:guest@127.0.0.1:\(port)/", exchange: exchange, routingKey: routingKey,
            mandatory: mandatory, connectTimeout: .seconds(3), confirmTimeout: .seconds(10))
    }

    @Test func confirmedMessagesAreInTheQueueInOrderAndBrokerRefusalsAreClear() async throws {
        try await BrokerProcess.startRabbitMQ().use { broker in
            let client = try AMQPTestClient(port: broker.port)
            try client.declareExchange("depot-events")
            try client.declareQueue("recordings", boundTo: "depot-events", routingKey: "object.created")
            let publisher = try AMQPPublisher(
                settings: Self.settings(port: broker.port, exchange: "depot-events", routingKey: "object.created"))
            for batch in [0..<1, 1..<60, 60..<100] { try await publisher.publish(Self.messages(batch)) }
            // Confirmed means enqueued: the messages are there now, without waiting.
            let received = try client.drain("recordings")
            #expect(received.count == 100)
            #expect(received.map(\.body) == Self.messages(0..<100).map(\.body))
            #expect(received.map(\.messageID) == (0..<100).map { "event-\($0)" })
            #expect(received.allSatisfy { $0.routingKey == "object.created" && $0.contentType == "application/json" })
            #expect(received.allSatisfy { $0.deliveryMode == 2 })

            // A per-message routing key overrides the settings'.
            try client.declareQueue("removals", boundTo: "depot-events", routingKey: "object.removed")
            try await publisher.publish([AMQPMessage(body: Array("gone".utf8), routingKey: "object.removed")])
            #expect(try client.drain("removals").map(\.body) == [Array("gone".utf8)])
            await publisher.shutdown()

            // No such exchange: the broker closes the channel; the error says so, and the publisher
            // opens a new channel for the next publish.
            let early = try AMQPPublisher(settings: Self.settings(port: broker.port, exchange: "later", routingKey: "k"))
            let failure = await #expect(throws: AMQPPublisherError.self) { try await early.publish(Self.messages(0..<3)) }
            guard case .channelClosed(404, let text)? = failure else {
                Issue.record("expected channelClosed 404, got \(String(describing: failure))")
                return
            }
            #expect(text.contains("no exchange 'later'"))
            try client.declareExchange("later")
            try client.declareQueue("later-queue", boundTo: "later", routingKey: "k")
            try await early.publish(Self.messages(0..<3))
            #expect(try client.drain("later-queue").count == 3)
            await early.shutdown()

            // mandatory: a routing key no queue is bound for is reported, not silently dropped.
            let strict = try AMQPPublisher(
                settings: Self.settings(port: broker.port, exchange: "depot-events", routingKey: "nobody", mandatory: true))
            await #expect(throws: AMQPPublisherError.notConfirmed(nacked: 0, unroutable: 2, of: 2)) {
                try await strict.publish(Self.messages(0..<2))
            }
            await strict.shutdown()

            // Wrong password and unknown vhost fail at login with the broker's reason.
            var wrong = Self.settings(port: broker.port, exchange: "depot-events", routingKey: "k")
            wrong.password = "not-the-password"
            let refused = await #expect(throws: AMQPPublisherError.self) {
                try await AMQPPublisher(settings: wrong).connect()
            }
            #expect(refused?.description.contains("ACCESS_REFUSED") == true, "\(String(describing: refused))")
            var vhost = Self.settings(port: broker.port, exchange: "depot-events", routingKey: "k")
            vhost.vhost = "no-such-vhost"
            let noVhost = await #expect(throws: AMQPPublisherError.self) {
                try await AMQPPublisher(settings: vhost).connect()
            }
            #expect(noVhost?.description.contains("no-such-vhost") == true, "\(String(describing: noVhost))")
        }
    }

    @Test func brokerDownFailsClearlyThenPublishesAfterStartAndAfterARestart() async throws {
        let port = try freePort()
        // The default exchange routes by queue name.
        let publisher = try AMQPPublisher(settings: Self.settings(port: port, exchange: "", routingKey: "events"))

        let started = ContinuousClock.now
        let failure = await #expect(throws: AMQPPublisherError.self) { try await publisher.publish(Self.messages(0..<5)) }
        #expect(ContinuousClock.now - started < .seconds(10))
        guard case .connectionFailed(let reason)? = failure else {
            Issue.record("expected connectionFailed, got \(String(describing: failure))")
            return
        }
        #expect(reason.contains("127.0.0.1:\(port)"), "\(reason)")

        try await BrokerProcess.startRabbitMQ(port: port).use { _ in
            try AMQPTestClient(port: port).declareQueue("events")
            try await publisher.publish(Self.messages(0..<10))
            #expect(try AMQPTestClient(port: port).drain("events").map(\.messageID) == (0..<10).map { "event-\($0)" })
        }
        // The broker restarted under the publisher's open connection: the next publish notices the
        // broken connection, connects again and delivers.
        try await BrokerProcess.startRabbitMQ(port: port).use { _ in
            try AMQPTestClient(port: port).declareQueue("events")
            try await publisher.publish(Self.messages(10..<20))
            #expect(try AMQPTestClient(port: port).drain("events").map(\.messageID) == (10..<20).map { "event-\($0)" })
        }
        await publisher.shutdown()
        await #expect(throws: AMQPPublisherError.shutDown) { try await publisher.publish(Self.messages(0..<1)) }
    }

    @Test func urlsAreCheckedUpFront() throws {
        #expect(throws: AMQPPublisherError.self) {
            _ = try AMQPPublisher(settings: AMQPSettings(url: "http://127.0.0.1:5672", exchange: "e", routingKey: "k"))
        }
        #expect(throws: AMQPPublisherError.self) {
            _ = try AMQPPublisher(settings: AMQPSettings(url: "amqp://broker:port/", exchange: "e", routingKey: "k"))
        }
        _ = try AMQPPublisher(
            settings: AMQPSettings(url: "amqps://u:p@broker.example:5671/site%2fa", exchange: "e", routingKey: "k"))
    }
}

/// amqps:// against a RabbitMQ TLS listener with a throw-away CA.
@Suite(.serialized)
struct AMQPPublisherTLSTests {
    @Test func amqpsVerifiesTheBrokerAgainstTheCAFileAndPublishes() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("depot-tls-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let certificates = try TestCertificates.make(in: directory)
        let stranger = try TestCertificates.make(in: directory, name: "stranger")

        try await BrokerProcess.startRabbitMQ(tls: certificates).use { broker in
            let tlsPort = try #require(broker.tlsPort)
            try AMQPTestClient(port: broker.port).declareQueue("secure")
            // By host name: rabbitmq-c 0.11 matches the certificate's DNS names only, not IP addresses.
            let settings = AMQPSettings(
                url: "amqps://guest:guest@localhost:\(tlsPort)", exchange: "", routingKey: "secure",
                caFile: certificates.caFile, connectTimeout: .seconds(5), confirmTimeout: .seconds(10))
            let publisher = try AMQPPublisher(settings: settings)
            try await publisher.publish(AMQPPublisherTests.messages(0..<5))
            await publisher.shutdown()
            #expect(try AMQPTestClient(port: broker.port).drain("secure").map(\.messageID) == (0..<5).map { "event-\($0)" })

            // A CA that did not sign the broker's certificate: refused before any message goes out.
            var untrusting = settings
            untrusting.caFile = stranger.caFile
            let refused = await #expect(throws: AMQPPublisherError.self) {
                try await AMQPPublisher(settings: untrusting).publish(AMQPPublisherTests.messages(0..<1))
            }
            #expect(refused?.description.contains("localhost:\(tlsPort)") == true, "\(String(describing: refused))")
            #expect(refused?.description.contains("SSL peer cert verification failed") == true)
            #expect(try AMQPTestClient(port: broker.port).drain("secure").isEmpty)
        }
    }
}
