import CRabbitMQ
import Foundation

/// A message read back from a RabbitMQ queue.
struct ConsumedAMQPMessage: Equatable {
    let routingKey: String
    let body: [UInt8]
    let messageID: String?
    let contentType: String?
    let deliveryMode: UInt8
}

/// The test's own AMQP client, on the same rabbitmq-c library: sets up exchanges and queues, and reads
/// messages back with basic.get.
final class AMQPTestClient {
    private let connection: amqp_connection_state_t
    private let channel: amqp_channel_t = 1

    init(port: Int) throws {
        guard let connection = amqp_new_connection() else { throw BrokerSetupError(description: "amqp_new_connection") }
        self.connection = connection
        let socket = amqp_tcp_socket_new(connection)
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        guard amqp_socket_open_noblock(socket, "127.0.0.1", Int32(port), &timeout) == AMQP_STATUS_OK.rawValue else {
            amqp_destroy_connection(connection)
            throw BrokerSetupError(description: "test client cannot connect to 127.0.0.1:\(port)")
        }
        try check(depot_amqp_login_plain(connection, "/", 0, 131_072, 0, "guest", "guest"), "login")
        amqp_channel_open(connection, channel)
        try check(amqp_get_rpc_reply(connection), "channel.open")
    }

    deinit {
        _ = amqp_channel_close(connection, channel, Int32(AMQP_REPLY_SUCCESS))
        _ = amqp_connection_close(connection, Int32(AMQP_REPLY_SUCCESS))
        amqp_destroy_connection(connection)
    }

    func declareExchange(_ name: String, type: String = "direct") throws {
        let (nameBytes, typeBytes) = (Self.copy(name), Self.copy(type))
        defer { [nameBytes, typeBytes].forEach(amqp_bytes_free) }
        amqp_exchange_declare(connection, channel, nameBytes, typeBytes, 0, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "exchange.declare \(name)")
    }

    /// Declares `queue` and, unless `exchange` is the default one, binds it with `routingKey`.
    func declareQueue(_ queue: String, boundTo exchange: String = "", routingKey: String = "") throws {
        let (queueBytes, exchangeBytes, keyBytes) = (Self.copy(queue), Self.copy(exchange), Self.copy(routingKey))
        defer { [queueBytes, exchangeBytes, keyBytes].forEach(amqp_bytes_free) }
        amqp_queue_declare(connection, channel, queueBytes, 0, 0, 0, 0, amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "queue.declare \(queue)")
        guard !exchange.isEmpty else { return }
        amqp_queue_bind(connection, channel, queueBytes, exchangeBytes, keyBytes, amqp_empty_table)
        try check(amqp_get_rpc_reply(connection), "queue.bind \(queue)")
    }

    /// Takes every message in `queue` right now (basic.get until it answers empty).
    func drain(_ queue: String) throws -> [ConsumedAMQPMessage] {
        var messages: [ConsumedAMQPMessage] = []
        let queueBytes = Self.copy(queue)
        defer { amqp_bytes_free(queueBytes) }
        while true {
            let reply = amqp_basic_get(connection, channel, queueBytes, 1)
            try check(reply, "basic.get \(queue)")
            guard reply.reply.id == AMQP_BASIC_GET_OK_METHOD, let decoded = reply.reply.decoded else { return messages }
            let getOK = decoded.load(as: amqp_basic_get_ok_t.self)
            let routingKey = Self.text(getOK.routing_key)
            var message = amqp_message_t()
            try check(amqp_read_message(connection, channel, &message, 0), "read message")
            let properties = message.properties
            let flags = properties._flags
            messages.append(
                ConsumedAMQPMessage(
                    routingKey: routingKey,
                    body: Self.bytes(message.body),
                    messageID: flags & amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG) != 0 ? Self.text(properties.message_id) : nil,
                    contentType: flags & amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG) != 0
                        ? Self.text(properties.content_type) : nil,
                    deliveryMode: flags & amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG) != 0 ? properties.delivery_mode : 0))
            amqp_destroy_message(&message)
            amqp_maybe_release_buffers(connection)
        }
    }

    private func check(_ reply: amqp_rpc_reply_t, _ what: String) throws {
        guard reply.reply_type == AMQP_RESPONSE_NORMAL else {
            throw BrokerSetupError(description: "test client \(what) failed (reply type \(reply.reply_type.rawValue))")
        }
    }

    /// A copy of `text` that stays valid until `amqp_bytes_free` (a Swift string lent to C is only valid
    /// during the one call it is passed to).
    private static func copy(_ text: String) -> amqp_bytes_t {
        text.withCString { amqp_bytes_malloc_dup(amqp_cstring_bytes($0)) }
    }

    private static func bytes(_ bytes: amqp_bytes_t) -> [UInt8] {
        guard let start = bytes.bytes else { return [] }
        return Array(UnsafeRawBufferPointer(start: start, count: bytes.len))
    }

    private static func text(_ bytes: amqp_bytes_t) -> String {
        guard let start = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: bytes.len), as: UTF8.self)
    }
}
