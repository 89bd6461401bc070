import DepotEngine

/// `events:`: where events go (sinks) and what happens when they cannot go fast enough (the
/// outbox bound).
public struct EventSettings: Sendable, Equatable {
    public enum WhenFull: String, Sendable {
        /// New uploads get 503 SlowDown until the slowest sink catches up: no event is lost.
        case refuse
        /// The oldest events of the sink that lags are dropped, counted and logged.
        case dropOldest
    }

    public var maxEvents = 1_000_000
    public var whenFull = WhenFull.refuse
    public var sinks: [SinkSettings] = []
    /// The buckets' notification configurations (PutBucketNotificationConfiguration), by bucket:
    /// not from the file, but read from the bucket documents when the configuration is built.
    public var bucketRules: [String: [BucketNotificationRule]] = [:]

    public init() {}
}

/// One destination of events.
public struct SinkSettings: Sendable, Equatable {
    public enum Kind: String, Sendable { case webhook, sqs, kafka, rabbitmq }
    public enum Format: String, Sendable {
        /// The AWS S3 event notification (`Records[]`).
        case s3
        /// The Kerberos Vault pipeline event (`events[]`, `provider: kstorage`, `payload{…}`).
        case kerberos
    }

    public var name: String
    public var kind: Kind
    public var format: Format = .s3
    /// Filters: all must hold.
    public var buckets: [String] = []
    public var prefix = ""
    public var kinds: Set<EventRecord.Kind> = [.created, .removed]
    public var account: String?
    /// Takes only what bucket notification configurations send it (as a MinIO target does): its
    /// own match wants nothing.
    public var bucketNotificationsOnly = false
    /// Per-attempt timeout, seconds.
    public var timeout = 10

    // webhook
    public var url = ""
    public var headers: [String: String] = [:]
    /// Signs each body: `X-Depot-Signature: sha256=<hex HMAC-SHA256>`.
    public var secret = ""
    // sqs
    public var queueURL = ""
    public var queueName = ""
    public var endpoint = ""
    public var region = "us-east-1"
    public var accessKey = ""
    public var secretKey = ""
    // kafka
    public var brokers: [String] = []
    public var topic = ""
    public var saslMechanism = ""
    public var username = ""
    public var password = ""
    public var tls = false
    public var caFile = ""
    // rabbitmq
    public var exchange = ""
    public var routingKey = ""
    /// Kerberos format: the `source` field (the Vault "provider" name consumers pass back).
    public var provider = "depot"

    public init(name: String, kind: Kind) {
        self.name = name
        self.kind = kind
    }

    /// Whether this sink wants the event.
    public func wants(_ event: EventRecord) -> Bool {
        guard !bucketNotificationsOnly, kinds.contains(event.kind) else { return false }
        if !buckets.isEmpty && !buckets.contains(event.bucket) { return false }
        if !event.key.hasPrefix(prefix) { return false }
        if let account, account != event.principal { return false }
        return true
    }
}

extension DepotConfiguration {
    static func parseEvents(_ node: ConfigNode) throws -> EventSettings {
        var settings = EventSettings()
        try node.requireMapping()
        let outbox = node["outbox"]
        try outbox.requireMapping()
        settings.maxEvents = try outbox["maxEvents"].int(default: settings.maxEvents)
        guard settings.maxEvents >= 100 else { throw ConfigError(outbox.path + ".maxEvents", "must be at least 100") }
        let whenFull = try outbox["whenFull"].string(default: "refuse")
        guard let parsed = EventSettings.WhenFull(rawValue: whenFull) else {
            throw ConfigError(outbox.path + ".whenFull", "must be refuse or dropOldest, got \"\(whenFull)\"")
        }
        settings.whenFull = parsed
        var names: Set<String> = []
        for item in try node["sinks"].items() {
            let sink = try parseSink(item)
            guard names.insert(sink.name).inserted else {
                throw ConfigError(item.path + ".name", "duplicate sink name \(sink.name)")
            }
            settings.sinks.append(sink)
        }
        return settings
    }

    static func parseSink(_ node: ConfigNode) throws -> SinkSettings {
        try node.requireMapping()
        let name = try node["name"].requiredString()
        let typeText = try node["type"].requiredString()
        guard let kind = SinkSettings.Kind(rawValue: typeText) else {
            throw ConfigError(node.path + ".type", "must be webhook, sqs, kafka or rabbitmq, got \"\(typeText)\"")
        }
        var sink = SinkSettings(name: name, kind: kind)
        let format = try node["format"].string(default: "s3")
        guard let parsedFormat = SinkSettings.Format(rawValue: format) else {
            throw ConfigError(node.path + ".format", "must be s3 or kerberos, got \"\(format)\"")
        }
        sink.format = parsedFormat
        sink.timeout = try node["timeout"].duration(default: 10)
        guard (1...300).contains(sink.timeout) else { throw ConfigError(node.path + ".timeout", "must be 1s to 300s") }
        sink.provider = try node["provider"].string(default: "depot")
        sink.bucketNotificationsOnly = try node["bucketNotificationsOnly"].bool(default: false)
        if sink.bucketNotificationsOnly && node["match"].isPresent {
            throw ConfigError(
                node.path + ".match", "a sink with bucketNotificationsOnly takes what bucket notifications send it, no match")
        }
        let match = node["match"]
        try match.requireMapping()
        if let bucket = try match["bucket"].string() { sink.buckets = [bucket] }
        sink.prefix = try match["prefix"].string(default: "")
        sink.account = try match["account"].string()
        if match["events"].isPresent {
            var kinds: Set<EventRecord.Kind> = []
            for item in try match["events"].items() {
                let text = try item.requiredString()
                guard let kind = EventRecord.Kind(name: text) else {
                    throw ConfigError(
                        item.path, "unknown event \"\(text)\" (created, removed, replicated, replicationFailed, transitioned)")
                }
                kinds.insert(kind)
            }
            guard !kinds.isEmpty else { throw ConfigError(match.path + ".events", "names no event") }
            sink.kinds = kinds
        }
        switch kind {
        case .webhook:
            sink.url = try node["url"].requiredString()
            guard sink.url.hasPrefix("http://") || sink.url.hasPrefix("https://") else {
                throw ConfigError(node.path + ".url", "must start with http:// or https://")
            }
            sink.secret = try node["secret"].string(default: "")
            let headers = node["headers"]
            try headers.requireMapping()
            if let mapping = headers.node?.mapping {
                for (k, _) in mapping {
                    let header = k.string ?? ""
                    sink.headers[header] = try headers[header].requiredString()
                }
            }
        case .sqs:
            sink.queueURL = try node["queueUrl"].string(default: "")
            sink.queueName = try node["queueName"].string(default: "")
            guard !sink.queueURL.isEmpty || !sink.queueName.isEmpty else {
                throw ConfigError(node.path + ".queueUrl", "give queueUrl, or queueName to look it up")
            }
            if !sink.queueURL.isEmpty && !(sink.queueURL.hasPrefix("http://") || sink.queueURL.hasPrefix("https://")) {
                throw ConfigError(node.path + ".queueUrl", "must start with http:// or https://")
            }
            sink.region = try node["region"].string(default: "us-east-1")
            sink.endpoint = try node["endpoint"].string(default: "https://sqs.\(sink.region).amazonaws.com")
            guard sink.endpoint.hasPrefix("http://") || sink.endpoint.hasPrefix("https://") else {
                throw ConfigError(node.path + ".endpoint", "must start with http:// or https://")
            }
            sink.accessKey = try node["accessKey"].requiredString()
            sink.secretKey = try node["secretKey"].requiredString()
        case .kafka:
            sink.brokers = try node["brokers"].stringList()
            guard !sink.brokers.isEmpty else { throw ConfigError(node.path + ".brokers", "is required") }
            for (i, broker) in sink.brokers.enumerated() where HostPort.parse(broker) == nil {
                throw ConfigError("\(node.path).brokers[\(i)]", "must be HOST:PORT, got \"\(broker)\"")
            }
            sink.topic = try node["topic"].requiredString()
            let sasl = node["sasl"]
            if sasl.isPresent {
                try sasl.requireMapping()
                sink.saslMechanism = try sasl["mechanism"].requiredString()
                guard ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"].contains(sink.saslMechanism) else {
                    throw ConfigError(sasl.path + ".mechanism", "must be PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512")
                }
                sink.username = try sasl["username"].requiredString()
                sink.password = try sasl["password"].requiredString()
            }
            sink.tls = try node["tls"].bool(default: false)
            sink.caFile = try node["caFile"].string(default: "")
        case .rabbitmq:
            sink.url = try node["url"].requiredString()
            guard sink.url.hasPrefix("amqp://") || sink.url.hasPrefix("amqps://") else {
                throw ConfigError(node.path + ".url", "must start with amqp:// or amqps://")
            }
            sink.exchange = try node["exchange"].string(default: "")
            sink.routingKey = try node["routingKey"].string(default: "")
            sink.caFile = try node["caFile"].string(default: "")
        }
        return sink
    }
}
