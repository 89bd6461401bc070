import CRabbitMQ

/// Where and how an `AMQPPublisher` publishes: the part of a `rabbitmq` event sink's configuration
/// that the client needs.
public struct AMQPSettings: Sendable, Equatable {
    /// `amqp://[user[:password]@]host[:port][/vhost]`, or `amqps://` for TLS (port 5671 by default).
    /// The vhost is percent-encoded, as in RabbitMQ's URI spec: `/` is `%2f`. With amqps, name the host
    /// as its certificate does: rabbitmq-c 0.11 matches the certificate's DNS names, not IP addresses.
    public var url: String
    /// Override the URL's credentials and vhost (so the secret can come from `${ENV}` on its own).
    public var user: String?
    public var password: String?
    public var vhost: String?
    /// The exchange to publish to; "" is the default exchange, which routes by queue name.
    public var exchange: String
    /// Routing key of messages that do not carry their own.
    public var routingKey: String
    /// PEM file of the CA that signed the broker's certificate (amqps only); nil: the system's CAs.
    public var caFile: String?
    /// Check the broker's certificate and host name (amqps only). Off only for testing.
    public var verifyPeer: Bool
    /// Ask the broker to return messages no queue is bound for, and report them as failed. Off by
    /// default, as in pub/sub a fan-out with no subscriber yet is normal; on, a wrong routing key shows
    /// up as an error instead of silently dropping every event.
    public var mandatory: Bool
    /// Delivery mode 2: a durable queue keeps the message across a broker restart.
    public var persistent: Bool
    public var contentType: String?
    /// Bound on connecting and logging in.
    public var connectTimeout: Duration
    /// Bound on waiting for the broker to confirm a batch.
    public var confirmTimeout: Duration

    public init(
        url: String, user: String? = nil, password: String? = nil, vhost: String? = nil, exchange: String,
        routingKey: String, caFile: String? = nil, verifyPeer: Bool = true, mandatory: Bool = false,
        persistent: Bool = true, contentType: String? = "application/json", connectTimeout: Duration = .seconds(10),
        confirmTimeout: Duration = .seconds(30)
    ) {
        self.url = url
        self.user = user
        self.password = password
        self.vhost = vhost
        self.exchange = exchange
        self.routingKey = routingKey
        self.caFile = caFile
        self.verifyPeer = verifyPeer
        self.mandatory = mandatory
        self.persistent = persistent
        self.contentType = contentType
        self.connectTimeout = connectTimeout
        self.confirmTimeout = confirmTimeout
    }

    /// The broker address and credentials, from the URL with the explicit fields on top.
    func endpoint() throws(AMQPPublisherError) -> AMQPEndpoint {
        guard url.hasPrefix("amqp://") || url.hasPrefix("amqps://") else {
            throw .invalidSettings("url: must start with amqp:// or amqps://, got \(url)")
        }
        // amqp_parse_url cuts the string it parses into pieces, so it gets a copy.
        var buffer = Array(url.utf8CString)
        let parsed: AMQPEndpoint? = buffer.withUnsafeMutableBufferPointer { text in
            var info = amqp_connection_info()
            guard amqp_parse_url(text.baseAddress, &info) == AMQP_STATUS_OK.rawValue else { return nil }
            return AMQPEndpoint(
                host: String(cString: info.host), port: Int(info.port), tls: info.ssl != 0,
                user: String(cString: info.user), password: String(cString: info.password),
                vhost: String(cString: info.vhost))
        }
        guard var endpoint = parsed, !endpoint.host.isEmpty else {
            throw .invalidSettings("url: cannot parse \(url)")
        }
        // The URI spec reads `amqp://host/` as the vhost named "", which no one has: take it, like most
        // clients, as the default vhost "/".
        if endpoint.vhost.isEmpty { endpoint.vhost = "/" }
        if let user { endpoint.user = user }
        if let password { endpoint.password = password }
        if let vhost { endpoint.vhost = vhost }
        guard connectTimeout > .zero, confirmTimeout > .zero else {
            throw .invalidSettings("connectTimeout and confirmTimeout must be positive")
        }
        return endpoint
    }
}

/// A resolved broker address: what `AMQPConnection` connects to.
struct AMQPEndpoint: Sendable, Equatable {
    var host: String
    var port: Int
    var tls: Bool
    var user: String
    var password: String
    var vhost: String
}

/// One message for `AMQPPublisher.publish`.
public struct AMQPMessage: Sendable, Equatable {
    public var body: [UInt8]
    /// nil: the settings' routing key.
    public var routingKey: String?
    /// Lets consumers drop the duplicates that at-least-once delivery can bring (e.g. the event id).
    public var messageID: String?

    public init(body: [UInt8], routingKey: String? = nil, messageID: String? = nil) {
        self.body = body
        self.routingKey = routingKey
        self.messageID = messageID
    }
}
