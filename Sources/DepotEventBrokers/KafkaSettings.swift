/// Where and how a `KafkaProducer` publishes: the part of a `kafka` event sink's configuration that the
/// client needs. Every field maps to a librdkafka property (see `librdkafkaProperties`), so what a user
/// reads in Kafka's own documentation applies.
public struct KafkaSettings: Sendable, Equatable {
    /// SASL mechanisms Depot offers; GSSAPI and OAUTHBEARER need set-ups no camera site has.
    public enum SASLMechanism: String, Sendable, Equatable, CaseIterable {
        case plain = "PLAIN"
        case scramSHA256 = "SCRAM-SHA-256"
        case scramSHA512 = "SCRAM-SHA-512"
    }

    public struct SASL: Sendable, Equatable {
        public var mechanism: SASLMechanism
        public var username: String
        public var password: String

        public init(mechanism: SASLMechanism, username: String, password: String) {
            self.mechanism = mechanism
            self.username = username
            self.password = password
        }
    }

    /// Bootstrap brokers, `host:port` each.
    public var brokers: [String]
    public var topic: String
    public var clientID: String
    /// nil: no authentication.
    public var sasl: SASL?
    /// Encrypt with TLS; the broker's certificate is verified against `caFile`, or the system's CAs.
    public var tls: Bool
    /// PEM file of the CA(s) that signed the brokers' certificates.
    public var caFile: String?
    /// How long librdkafka keeps retrying a message before `send` reports it failed. Bounds how long
    /// `send` takes when the brokers are down.
    public var deliveryTimeout: Duration
    /// Idempotent producer: retries never duplicate or reorder messages within a partition. Needs a
    /// broker of Kafka 0.11 or later; turn off only for brokers without InitProducerId.
    public var idempotent: Bool
    /// Further librdkafka properties (e.g. `compression.type`, `linger.ms`), applied last.
    public var extraProperties: [String: String]

    public init(
        brokers: [String], topic: String, clientID: String = "depot", sasl: SASL? = nil, tls: Bool = false,
        caFile: String? = nil, deliveryTimeout: Duration = .seconds(30), idempotent: Bool = true,
        extraProperties: [String: String] = [:]
    ) {
        self.brokers = brokers
        self.topic = topic
        self.clientID = clientID
        self.sasl = sasl
        self.tls = tls
        self.caFile = caFile
        self.deliveryTimeout = deliveryTimeout
        self.idempotent = idempotent
        self.extraProperties = extraProperties
    }

    /// The settings as librdkafka configuration properties, in the order they are applied.
    /// Checks what librdkafka cannot: that there is a broker and a topic.
    func librdkafkaProperties() throws(KafkaProducerError) -> [(String, String)] {
        guard !brokers.isEmpty, brokers.allSatisfy({ !$0.isEmpty }) else {
            throw .invalidSettings("brokers: at least one host:port is needed")
        }
        guard !topic.isEmpty else { throw .invalidSettings("topic: must not be empty") }
        let timeoutMilliseconds = deliveryTimeout.milliseconds
        guard timeoutMilliseconds >= 1 else { throw .invalidSettings("deliveryTimeout: must be at least 1 ms") }

        var properties: [(String, String)] = [
            ("bootstrap.servers", brokers.joined(separator: ",")),
            ("client.id", clientID),
            // Acknowledged by every in-sync replica: an event is only "delivered" once it survives a broker loss.
            ("acks", "all"),
            ("enable.idempotence", idempotent ? "true" : "false"),
            ("message.timeout.ms", String(timeoutMilliseconds)),
            // Java clients' partitioner, so a key lands in the same partition whichever client produced it.
            ("partitioner", "murmur2_random"),
            ("security.protocol", securityProtocol),
        ]
        if !idempotent {
            // Without idempotence a retried request could overtake the next one: keep one in flight so
            // events of one key stay in order.
            properties.append(("max.in.flight.requests.per.connection", "1"))
        }
        if let sasl {
            properties += [
                ("sasl.mechanisms", sasl.mechanism.rawValue),
                ("sasl.username", sasl.username),
                ("sasl.password", sasl.password),
            ]
        }
        if tls, let caFile { properties.append(("ssl.ca.location", caFile)) }
        properties += extraProperties.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return properties
    }

    private var securityProtocol: String {
        switch (sasl != nil, tls) {
        case (false, false): "plaintext"
        case (false, true): "ssl"
        case (true, false): "sasl_plaintext"
        case (true, true): "sasl_ssl"
        }
    }
}
