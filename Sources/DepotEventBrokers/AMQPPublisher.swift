/// Publishes messages to a RabbitMQ (or any AMQP 0-9-1) exchange and tells the caller when the broker
/// has them.
///
/// Built on rabbitmq-c (Debian's librabbitmq), with the channel in publisher-confirm mode: `publish`
/// returns once the broker confirmed every message, i.e. routed it to every bound queue (and wrote it
/// to disk for durable queues and persistent messages), which is what the event outbox needs before it
/// may drop an event. rabbitmq-c blocks, so its calls run on a thread of the publisher's own, never on
/// a Swift concurrency thread.
///
/// The connection is made on first use and kept; when it breaks, the next publish makes a new one.
/// One publisher per sink: publishes run one after another, in the order they were called.
public final class AMQPPublisher: Sendable {
    public let settings: AMQPSettings
    private let connection: AMQPConnection
    private let thread: BrokerThread

    /// Checks the settings; contacts no broker yet.
    /// - Throws: `AMQPPublisherError.invalidSettings` for a URL that cannot work.
    public init(settings: AMQPSettings) throws(AMQPPublisherError) {
        self.settings = settings
        self.connection = try AMQPConnection(settings: settings)
        self.thread = BrokerThread(name: "amqp \(settings.exchange)")
    }

    deinit {
        let connection = self.connection
        thread.enqueue { connection.disconnect(graceful: true) }
        thread.stop()
    }

    /// Connects and logs in now rather than on the first publish, to report a wrong address, password
    /// or vhost early.
    /// - Throws: `AMQPPublisherError.connectionFailed` with the broker's or the socket's reason.
    public func connect() async throws {
        let connection = self.connection
        try await onThread { try connection.prepare() }
    }

    /// Publishes `messages` in order and returns when the broker confirmed all of them.
    ///
    /// - Throws: an `AMQPPublisherError`: `.connectionFailed` when no connection can be made (within
    ///   `settings.connectTimeout`), `.connectionLost` or `.confirmTimeout` when the connection broke or
    ///   the broker stayed silent (some messages may have arrived: callers retry the batch, and
    ///   consumers see an event at least once), `.channelClosed` when the broker refused the publish
    ///   (e.g. no such exchange), `.notConfirmed` for nacked or unroutable messages, `.shutDown`.
    public func publish(_ messages: [AMQPMessage]) async throws {
        guard !messages.isEmpty else { return }
        let connection = self.connection
        try await onThread { try connection.publish(messages) }
    }

    /// Closes the connection politely and ends the publisher's thread. Later publishes throw `.shutDown`.
    public func shutdown() async {
        let connection = self.connection
        _ = try? await thread.run { connection.shutdown() }
        thread.stop()
    }

    private func onThread(_ body: @escaping @Sendable () throws -> Void) async throws {
        do {
            try await thread.run(body)
        } catch is BrokerThread.Stopped {
            throw AMQPPublisherError.shutDown
        }
    }
}
