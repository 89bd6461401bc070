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
        let broker = try await BrokerProcess.startRabbitMQ()
        let client = try AMQPTestClient(port: broker.port)
        try client.declareExchange("depot-events")
        try client.declareQueue("recordings", boundTo: "depot-events", routingKey: "object.created")
        let publisher = try AMQPPublisher(
            settings: Self.settings(port: broker.port, exchange: "depot-events", routingKey: "object.created"))
        do {
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

            // No such exchange: the broker closes the channel; the error says so, and the publisher
            // opens a new channel for the next publish.
            let lost = try AMQPPublisher(settings: Self.settings(port: broker.port, exchange: "later", routingKey: "k"))
            let failure = await #expect(throws: AMQPPublisherError.self) { try await lost.publish(Self.messages(0..<3)) }
            guard case .channelClosed(404, let text)? = failure else {
                Issue.record("expected channelClosed 404, got \(String(describing: failure))")
                throw failure ?? BrokerSetupError(description: "no error")
            }
            #expect(text.contains("no exchange 'later'"))
            try client.declareExchange("later")
            try client.declareQueue("later-queue", boundTo: "later", routingKey: "k")
            try await lost.publish(Self.messages(0..<3))
            #expect(try client.drain("later-queue").count == 3)
            await lost.shutdown()

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
        } catch {
            Issue.record("\(error)\n\(broker.log.suffix(2000))")
        }
        await publisher.shutdown()
        await broker.stop()
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
            await publisher.shutdown()
            return
        }
        #expect(reason.contains("127.0.0.1:\(port)"), "\(reason)")

        var broker = try await BrokerProcess.startRabbitMQ(port: port)
        do {
            try AMQPTestClient(port: port).declareQueue("events")
            try await publisher.publish(Self.messages(0..<10))
            #expect(try AMQPTestClient(port: port).drain("events").map(\.messageID) == (0..<10).map { "event-\($0)" })

            // The broker restarts under the open connection: the next publish notices the broken
            // connection, connects again and delivers.
            await broker.stop()
            broker = try await BrokerProcess.startRabbitMQ(port: port)
            try AMQPTestClient(port: port).declareQueue("events")
            try await publisher.publish(Self.messages(10..<20))
            #expect(try AMQPTestClient(port: port).drain("events").map(\.messageID) == (10..<20).map { "event-\($0)" })
        } catch {
            Issue.record("\(error)\n\(broker.log.suffix(2000))")
        }
        await publisher.shutdown()
        await broker.stop()
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
