import AsyncHTTPClient
import DepotConfig
import DepotHashing
import DepotSignedHTTP
import NIOCore
import NIOHTTP1

/// HTTP POST of each event's JSON to a URL, one request per event, in order. With a secret,
/// `X-Depot-Signature: sha256=<hex HMAC-SHA256 of the body>` lets the receiver check the event
/// came from this Depot and was not altered; any 2xx is an acknowledgement.
struct WebhookSink: EventSink {
    let settings: SinkSettings
    let client: HTTPClient

    func deliver(_ messages: [EventMessage]) async throws {
        for message in messages {
            var request = HTTPClientRequest(url: settings.url)
            request.method = .POST
            request.headers.add(name: "content-type", value: "application/json")
            request.headers.add(name: "user-agent", value: "Depot")
            request.headers.add(name: "x-depot-event-sequence", value: String(message.sequence))
            for (name, value) in settings.headers { request.headers.replaceOrAdd(name: name, value: value) }
            if !settings.secret.isEmpty {
                let mac = HMAC.sha256(key: Array(settings.secret.utf8), message: message.body)
                request.headers.add(name: "x-depot-signature", value: "sha256=" + Hex.encode(mac))
            }
            request.body = .bytes(ByteBuffer(bytes: message.body))
            let response = try await client.fetch(request, timeout: .seconds(Int64(settings.timeout)), bodyLimit: 64 << 10)
            guard (200..<300).contains(response.status) else {
                throw EventSinkError("POST \(settings.url): HTTP \(response.status) \(response.text.prefix(200))")
            }
        }
    }
}
