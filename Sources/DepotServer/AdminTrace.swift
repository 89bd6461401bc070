import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore
import ServiceLifecycle

/// `GET /admin/v1/trace`: live requests as they finish, one JSON object per line
/// (`application/x-ndjson`, chunked), like `mc admin trace`. Query: `errors=true` (status 400
/// and up only), `account=` (an account name or access key), `bucket=`, `api=` (the front door:
/// s3, vault, admin, console, system). The stream ends when the client goes away or the server stops.
extension AdminAPI {
    static let traceRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/trace") { api, call in AdminReply(response: try api.traceStream(call.query)) }
    ]

    /// How often an empty line goes out when nothing else does. The server does not read a
    /// connection while it answers on it, so a reader that went away is seldom seen closing:
    /// the write after its socket is gone fails and ends the stream, within two heartbeats.
    static let traceHeartbeat: Duration = .seconds(2)

    func traceStream(_ query: [String: String]) throws -> Response {
        var filter = TraceHub.Filter()
        if let errors = query["errors"] {
            guard let flag = ["true": true, "1": true, "": true, "false": false, "0": false][errors.lowercased()] else {
                throw AdminFailure(.badRequest, "must be true or false", field: "errors")
            }
            filter.errorsOnly = flag
        }
        filter.account = query["account"].flatMap { $0.isEmpty ? nil : $0 }
        filter.bucket = query["bucket"].flatMap { $0.isEmpty ? nil : $0 }
        filter.api = query["api"].flatMap { $0.isEmpty ? nil : $0 }
        let hub = trace
        guard let subscription = hub.subscribe(filter) else {
            throw AdminFailure(
                .tooManyRequests, "\(TraceHub.maxSubscribers) traces are running already; end one first", code: "TooManyTraces")
        }
        ConnectionContext.closed?.whenComplete { _ in subscription.continuation.finish() }
        var started: [String: Any] = ["notice": "tracing", "errorsOnly": filter.errorsOnly]
        if let account = filter.account { started["account"] = account }
        if let bucket = filter.bucket { started["bucket"] = bucket }
        if let api = filter.api { started["api"] = api }
        let first = Self.line(started)
        let body = ResponseBody { writer in
            let heartbeat = Task {
                while (try? await Task.sleep(for: Self.traceHeartbeat)) != nil { subscription.continuation.yield(.heartbeat) }
            }
            defer {
                heartbeat.cancel()
                hub.unsubscribe(subscription)
            }
            try await withGracefulShutdownHandler {
                try await writer.write(first)
                for await event in subscription.events {
                    let dropped = subscription.takeDropped()
                    if dropped > 0 {
                        try await writer.write(
                            Self.line([
                                "notice": "dropped \(dropped) requests: the trace reader fell behind", "dropped": dropped,
                            ]))
                    }
                    switch event {
                    case .request(let record): try await writer.write(Self.line(record.json))
                    case .heartbeat: try await writer.write(ByteBuffer(string: "\n"))
                    }
                }
            } onGracefulShutdown: {
                subscription.continuation.finish()
            }
            try await writer.finish(nil)
        }
        return Response(
            status: .ok, headers: [.contentType: "application/x-ndjson", .cacheControl: "no-store"], body: body)
    }

    static func line(_ object: [String: Any]) -> ByteBuffer {
        var data =
            (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
            ?? Data("{}".utf8)
        data.append(0x0A)
        return ByteBuffer(bytes: data)
    }
}
