import DepotConfig
import DepotEngine
import Foundation

/// Event sinks made, changed and deleted through the admin API (and so the console). Like tiers
/// and policies, they are kept in the index and laid over the configuration file's (AdminOverlay),
/// parsed exactly as the file's `events.sinks[]` entries are, so errors name the field. Secrets
/// (a webhook's `secret` and header values, SQS's `secretKey`, Kafka's `sasl.password`, the
/// password in a RabbitMQ URL) are never shown: GET masks them, and a masked value sent back
/// keeps the stored one.
extension AdminAPI {
    static let masked = "********"

    static let sinkRoutes: [AdminRoute] = [
        AdminRoute(.post, "/admin/v1/events") { api, call in
            let object = try call.object()
            guard let name = object["name"] as? String else { throw AdminFailure(.badRequest, "is required", field: "name") }
            guard !api.configuration.events.sinks.contains(where: { $0.name == name }) else {
                throw AdminFailure(
                    .conflict, "an event sink named \(name) exists; PUT /admin/v1/events/\(name) replaces it", field: "name")
            }
            return AdminReply(try await api.putSink(name: name, object: object), status: .created)
        },
        AdminRoute(.get, "/admin/v1/events/{name}") { api, call in
            AdminReply(api.describe(try api.sink(call.parameter("name"))))
        },
        AdminRoute(.put, "/admin/v1/events/{name}") { api, call in
            let name = call.parameter("name")
            let existed = api.configuration.events.sinks.contains { $0.name == name }
            return AdminReply(try await api.putSink(name: name, object: try call.object()), status: existed ? .ok : .created)
        },
        AdminRoute(.delete, "/admin/v1/events/{name}") { api, call in
            AdminReply(try await api.deleteSink(call.parameter("name")))
        },
    ]

    func sink(_ name: String) throws -> SinkSettings {
        guard let sink = configuration.events.sinks.first(where: { $0.name == name }) else {
            throw AdminFailure(.notFound, "no event sink is named \(name)")
        }
        return sink
    }

    /// Creates or replaces a sink; the document has the fields of an `events.sinks[]` entry.
    func putSink(name: String, object: [String: Any]) async throws -> [String: Any] {
        try validateName(name, what: "event sink")
        var document = try documentNamed(name, what: "sink", from: object)
        // What GET adds besides the settings.
        for shown in ["source", "status", "arn"] { document[shown] = nil }
        if let current = configuration.events.sinks.first(where: { $0.name == name }) {
            Self.keepMaskedSecrets(&document, of: current)
        }
        let bytes = Array(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
        _ = try DepotConfiguration.parseSinkDocument(String(decoding: bytes, as: UTF8.self))
        try await runtime.change(kind: "sink", name: name, document: bytes)
        return describe(try sink(name))
    }

    /// A masked secret sent back (the document GET gave) means "unchanged": the stored one is put back.
    static func keepMaskedSecrets(_ document: inout [String: Any], of current: SinkSettings) {
        if document["secret"] as? String == masked { document["secret"] = current.secret }
        if document["secretKey"] as? String == masked { document["secretKey"] = current.secretKey }
        if var sasl = document["sasl"] as? [String: Any], sasl["password"] as? String == masked {
            sasl["password"] = current.password
            document["sasl"] = sasl
        }
        if var headers = document["headers"] as? [String: Any] {
            for (name, value) in headers where value as? String == masked { headers[name] = current.headers[name] }
            document["headers"] = headers
        }
        if let url = document["url"] as? String, url == maskingPassword(current.url) { document["url"] = current.url }
    }

    func deleteSink(_ name: String) async throws -> [String: Any] {
        _ = try sink(name)
        guard runtime.origin("sink:" + name) != .file else {
            throw AdminFailure(.conflict, "event sink \(name) is defined in the configuration file; remove it there")
        }
        try await runtime.change(kind: "sink", name: name, document: nil)
        let back = configuration.events.sinks.contains { $0.name == name }
        return ["deleted": name, "restoredFromConfig": back]
    }

    /// A sink as the API shows it: the document that would make it (secrets masked), where it
    /// comes from, and its delivery status (backlog, last error).
    func describe(_ sink: SinkSettings) -> [String: Any] {
        var out: [String: Any] = [
            "name": sink.name, "type": sink.kind.rawValue, "format": sink.format.rawValue, "timeout": sink.timeout,
            "provider": sink.provider, "source": runtime.origin("sink:" + sink.name)?.rawValue ?? "config",
        ]
        if sink.bucketNotificationsOnly {
            out["bucketNotificationsOnly"] = true
        } else {
            var match: [String: Any] = ["prefix": sink.prefix, "events": sink.kinds.map(\.name).sorted()]
            if let bucket = sink.buckets.first { match["bucket"] = bucket }
            if let account = sink.account { match["account"] = account }
            out["match"] = match
        }
        switch sink.kind {
        case .webhook:
            out["url"] = sink.url
            if !sink.secret.isEmpty { out["secret"] = Self.masked }
            if !sink.headers.isEmpty { out["headers"] = sink.headers.mapValues { _ in Self.masked } }
        case .sqs:
            if !sink.queueURL.isEmpty { out["queueUrl"] = sink.queueURL }
            if !sink.queueName.isEmpty { out["queueName"] = sink.queueName }
            out["endpoint"] = sink.endpoint
            out["region"] = sink.region
            out["accessKey"] = sink.accessKey
            out["secretKey"] = Self.masked
        case .kafka:
            out["brokers"] = sink.brokers
            out["topic"] = sink.topic
            if !sink.saslMechanism.isEmpty {
                out["sasl"] = ["mechanism": sink.saslMechanism, "username": sink.username, "password": Self.masked]
            }
            out["tls"] = sink.tls
            if !sink.caFile.isEmpty { out["caFile"] = sink.caFile }
        case .rabbitmq:
            out["url"] = Self.maskingPassword(sink.url)
            out["exchange"] = sink.exchange
            out["routingKey"] = sink.routingKey
            if !sink.caFile.isEmpty { out["caFile"] = sink.caFile }
        }
        if let status = events.status().first(where: { $0["name"] as? String == sink.name }) {
            out["status"] = status
        }
        return out
    }

    /// `amqp://user:secret@host/vhost` as `amqp://user:********@host/vhost`; a URL without a password as it is.
    static func maskingPassword(_ url: String) -> String {
        guard let scheme = url.range(of: "://") else { return url }
        let rest = url[scheme.upperBound...]
        let authorityEnd = rest.firstIndex(of: "/") ?? rest.endIndex
        guard let at = rest[..<authorityEnd].lastIndex(of: "@"),
            let colon = rest[..<at].firstIndex(of: ":")
        else { return url }
        return String(url[..<rest.index(after: colon)]) + masked + String(rest[at...])
    }
}
