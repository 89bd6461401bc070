import CRabbitMQ
import Glibc

/// One rabbitmq-c connection with one channel in confirm mode: the C side of `AMQPPublisher`.
///
/// Thread use: rabbitmq-c connections are not thread-safe and their calls block, so every method runs
/// on the publisher's `BrokerThread` only (hence `@unchecked Sendable`).
final class AMQPConnection: @unchecked Sendable {
    private static let channel: amqp_channel_t = 1
    /// rabbitmq-c's default; RabbitMQ accepts up to 128 KiB frames unless told otherwise.
    private static let frameMax: Int32 = 131_072

    private let settings: AMQPSettings
    private let endpoint: AMQPEndpoint
    private let exchange: [UInt8]
    private var state: amqp_connection_state_t?
    private var channelOpen = false
    /// Confirm mode numbers the channel's publishes 1, 2, 3…; the broker's acks name these numbers.
    private var nextDeliveryTag: UInt64 = 1
    private var isShutDown = false

    init(settings: AMQPSettings) throws(AMQPPublisherError) {
        self.settings = settings
        self.endpoint = try settings.endpoint()
        self.exchange = Array(settings.exchange.utf8)
    }

    deinit { disconnect(graceful: true) }

    /// Connects, logs in and opens the confirm-mode channel, unless that is done already.
    func prepare() throws(AMQPPublisherError) {
        guard !isShutDown else { throw .shutDown }
        if state == nil { try connect() }
        if !channelOpen { try openChannel() }
    }

    /// Publishes `messages` and waits for the broker's confirms. A connection that had been open before
    /// this call and turns out broken (the broker restarted, a network device dropped it while idle) is
    /// replaced once, and the batch sent again on the new one: at least once, never silently lost.
    func publish(_ messages: [AMQPMessage]) throws(AMQPPublisherError) {
        let reusedConnection = state != nil
        do {
            try prepare()
            try publishAndConfirm(messages)
        } catch {
            guard error.breaksConnection else { throw error }
            disconnect(graceful: false)
            guard reusedConnection else { throw error }
            do {
                try prepare()
                try publishAndConfirm(messages)
            } catch {
                if error.breaksConnection { disconnect(graceful: false) }
                throw error
            }
        }
    }

    /// Closes the connection: politely (connection.close) when it still works, else just the socket.
    func disconnect(graceful: Bool) {
        guard let state else { return }
        if graceful { _ = amqp_connection_close(state, Int32(AMQP_REPLY_SUCCESS)) }
        amqp_destroy_connection(state)
        self.state = nil
        channelOpen = false
    }

    /// Disconnects for good: later calls throw `.shutDown` instead of connecting again.
    func shutdown() {
        disconnect(graceful: true)
        isShutDown = true
    }

    // MARK: - Connecting

    private func connect() throws(AMQPPublisherError) {
        guard let connection = amqp_new_connection() else { throw .connectionFailed("out of memory") }
        state = connection  // from here on, disconnect() frees it whatever fails
        let address = "\(endpoint.host):\(endpoint.port)"

        let socket: OpaquePointer?
        if endpoint.tls {
            socket = amqp_ssl_socket_new(connection)
            if let socket {
                if let caFile = settings.caFile, amqp_ssl_socket_set_cacert(socket, caFile) != AMQP_STATUS_OK.rawValue {
                    disconnect(graceful: false)
                    throw .invalidSettings("caFile: cannot load CA certificates from \(caFile)")
                }
                amqp_ssl_socket_set_verify_peer(socket, settings.verifyPeer ? 1 : 0)
                amqp_ssl_socket_set_verify_hostname(socket, settings.verifyPeer ? 1 : 0)
            }
        } else {
            socket = amqp_tcp_socket_new(connection)
        }
        guard let socket else {
            disconnect(graceful: false)
            throw .connectionFailed("cannot create a socket")
        }

        var timeout = timeval(settings.connectTimeout)
        let opened = amqp_socket_open_noblock(socket, endpoint.host, Int32(endpoint.port), &timeout)
        guard opened == AMQP_STATUS_OK.rawValue else {
            disconnect(graceful: false)
            throw .connectionFailed("cannot connect to \(address): \(Self.statusText(opened))")
        }
        _ = amqp_set_handshake_timeout(connection, &timeout)
        // Bounds every synchronous RPC (login, channel.open, confirm.select, connection.close).
        _ = amqp_set_rpc_timeout(connection, &timeout)
        // rabbitmq-c's writes block; a broker that stops reading (memory alarm, dead peer) must not hang
        // the publisher forever, so writes give up after the confirm timeout.
        var sendTimeout = timeval(settings.confirmTimeout)
        _ = setsockopt(amqp_get_sockfd(connection), SOL_SOCKET, SO_SNDTIMEO, &sendTimeout, socklen_t(MemoryLayout<timeval>.size))

        // Heartbeats off: rabbitmq-c only answers them from inside its calls, so an idle publisher
        // would be dropped anyway; a broken connection is found and replaced on the next publish.
        let reply = depot_amqp_login_plain(
            connection, endpoint.vhost, 0, Self.frameMax, 0, endpoint.user, endpoint.password)
        if let problem = Self.describe(reply) {
            disconnect(graceful: false)
            throw .connectionFailed("login to \(address) vhost '\(endpoint.vhost)' as '\(endpoint.user)': \(problem)")
        }
    }

    private func openChannel() throws(AMQPPublisherError) {
        guard let state else { throw .connectionLost("not connected") }
        _ = amqp_channel_open(state, Self.channel)
        if let problem = Self.describe(amqp_get_rpc_reply(state)) {
            disconnect(graceful: false)
            throw .connectionLost("opening a channel: \(problem)")
        }
        _ = amqp_confirm_select(state, Self.channel)
        if let problem = Self.describe(amqp_get_rpc_reply(state)) {
            disconnect(graceful: false)
            throw .connectionLost("turning on publisher confirms: \(problem)")
        }
        channelOpen = true
        nextDeliveryTag = 1
    }

    // MARK: - Publishing

    private func publishAndConfirm(_ messages: [AMQPMessage]) throws(AMQPPublisherError) {
        guard let state else { throw .connectionLost("not connected") }
        let firstTag = nextDeliveryTag
        for message in messages {
            let status = basicPublish(message, on: state)
            guard status == AMQP_STATUS_OK.rawValue else {
                throw .connectionLost("basic.publish: \(Self.statusText(status))")
            }
            nextDeliveryTag += 1
        }
        try awaitConfirms(firstTag: firstTag, count: messages.count, on: state)
    }

    private func basicPublish(_ message: AMQPMessage, on state: amqp_connection_state_t) -> Int32 {
        let routingKey = Array((message.routingKey ?? settings.routingKey).utf8)
        let contentType = settings.contentType.map { Array($0.utf8) } ?? []
        let messageID = message.messageID.map { Array($0.utf8) } ?? []
        var properties = amqp_basic_properties_t()
        if settings.persistent {
            properties._flags |= amqp_flags_t(AMQP_BASIC_DELIVERY_MODE_FLAG)
            properties.delivery_mode = 2
        }
        return withBytes(exchange) { exchange in
            withBytes(routingKey) { routingKey in
                withBytes(contentType) { contentTypeBytes in
                    withBytes(messageID) { messageIDBytes in
                        withBytes(message.body) { body in
                            if settings.contentType != nil {
                                properties._flags |= amqp_flags_t(AMQP_BASIC_CONTENT_TYPE_FLAG)
                                properties.content_type = contentTypeBytes
                            }
                            if message.messageID != nil {
                                properties._flags |= amqp_flags_t(AMQP_BASIC_MESSAGE_ID_FLAG)
                                properties.message_id = messageIDBytes
                            }
                            return amqp_basic_publish(
                                state, Self.channel, exchange, routingKey, settings.mandatory ? 1 : 0, 0, &properties,
                                body)
                        }
                    }
                }
            }
        }
    }

    /// Reads the broker's frames until every tag from `firstTag` on is acked or nacked. Also handles
    /// what may arrive instead: returned (unroutable) messages, and the broker closing the channel or
    /// the connection.
    private func awaitConfirms(firstTag: UInt64, count: Int, on state: amqp_connection_state_t) throws(AMQPPublisherError) {
        var settled = [Bool](repeating: false, count: count)
        var unsettled = count
        var nacked = 0
        var unroutable = 0
        func settle(_ tag: UInt64, multiple: Bool, accepted: Bool) {
            let last = min(tag, firstTag + UInt64(count) - 1)
            let first = multiple ? firstTag : tag
            guard first <= last, first >= firstTag else { return }
            for index in Int(first - firstTag)...Int(last - firstTag) where !settled[index] {
                settled[index] = true
                unsettled -= 1
                if !accepted { nacked += 1 }
            }
        }

        let clock = ContinuousClock()
        let deadline = clock.now + settings.confirmTimeout
        while unsettled > 0 {
            let remaining = deadline - clock.now
            guard remaining > .zero else { throw .confirmTimeout(unconfirmed: unsettled, of: count) }
            var timeout = timeval(remaining)
            var frame = amqp_frame_t()
            let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
            if status == AMQP_STATUS_TIMEOUT.rawValue { continue }
            guard status == AMQP_STATUS_OK.rawValue else {
                throw .connectionLost("waiting for confirms: \(Self.statusText(status))")
            }
            defer { amqp_maybe_release_buffers(state) }
            guard frame.frame_type == UInt8(AMQP_FRAME_METHOD), let decoded = frame.payload.method.decoded else { continue }

            switch frame.payload.method.id {
            case AMQP_BASIC_ACK_METHOD:
                let ack = decoded.load(as: amqp_basic_ack_t.self)
                settle(ack.delivery_tag, multiple: ack.multiple != 0, accepted: true)
            case AMQP_BASIC_NACK_METHOD:
                let nack = decoded.load(as: amqp_basic_nack_t.self)
                settle(nack.delivery_tag, multiple: nack.multiple != 0, accepted: false)
            case AMQP_BASIC_RETURN_METHOD:
                // The returned message's header and body frames follow; read them off the wire. Its ack
                // still comes after, so it is counted here and settled there.
                unroutable += 1
                var returned = amqp_message_t()
                let reply = amqp_read_message(state, frame.channel, &returned, 0)
                if let problem = Self.describe(reply) { throw .connectionLost("reading a returned message: \(problem)") }
                amqp_destroy_message(&returned)
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = decoded.load(as: amqp_channel_close_t.self)
                var closeOK = amqp_channel_close_ok_t()
                _ = amqp_send_method(state, frame.channel, AMQP_CHANNEL_CLOSE_OK_METHOD, &closeOK)
                channelOpen = false
                throw .channelClosed(code: close.reply_code, text: Self.text(close.reply_text))
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = decoded.load(as: amqp_connection_close_t.self)
                var closeOK = amqp_connection_close_ok_t()
                _ = amqp_send_method(state, 0, AMQP_CONNECTION_CLOSE_OK_METHOD, &closeOK)
                throw .connectionLost("broker closed the connection: \(close.reply_code) \(Self.text(close.reply_text))")
            default:
                continue
            }
        }
        if nacked > 0 || unroutable > 0 { throw .notConfirmed(nacked: nacked, unroutable: unroutable, of: count) }
    }

    // MARK: - rabbitmq-c values as text

    private static func describe(_ reply: amqp_rpc_reply_t) -> String? {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return nil
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            return statusText(reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            guard let decoded = reply.reply.decoded else { return "the broker refused" }
            switch reply.reply.id {
            case AMQP_CONNECTION_CLOSE_METHOD:
                let close = decoded.load(as: amqp_connection_close_t.self)
                return "\(close.reply_code) \(text(close.reply_text))"
            case AMQP_CHANNEL_CLOSE_METHOD:
                let close = decoded.load(as: amqp_channel_close_t.self)
                return "\(close.reply_code) \(text(close.reply_text))"
            default:
                return "unexpected broker method \(reply.reply.id)"
            }
        default:
            return "no reply from the broker"
        }
    }

    private static func statusText(_ status: Int32) -> String {
        String(cString: amqp_error_string2(status))
    }

    private static func text(_ bytes: amqp_bytes_t) -> String {
        guard let start = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: start, count: bytes.len), as: UTF8.self)
    }
}

/// Lends `bytes` to rabbitmq-c as an `amqp_bytes_t` for the duration of `body`.
private func withBytes<Result>(_ bytes: [UInt8], _ body: (amqp_bytes_t) -> Result) -> Result {
    bytes.withUnsafeBytes { buffer in
        body(amqp_bytes_t(len: buffer.count, bytes: UnsafeMutableRawPointer(mutating: buffer.baseAddress)))
    }
}

extension timeval {
    fileprivate init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self.init(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
    }
}
