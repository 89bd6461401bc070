import DepotEngine

/// Event delivery through the admin API: per sink, its backlog, the oldest pending event's age,
/// what it delivered or dropped, and its last error.
extension AdminAPI {
    static let eventRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/events") { api, _ in
            AdminReply(["sinks": api.events.status(), "outbox": api.engine.outboxCount])
        },
        AdminRoute(.post, "/admin/v1/events/{name}/validate") { api, call in
            let name = call.parameter("name")
            guard let result = await api.events.sendTestEvent(sink: name) else {
                throw AdminFailure(.notFound, "no event sink is named \(name)")
            }
            var reply: [String: Any] = ["sink": name, "delivered": result.delivered]
            if !result.delivered { reply["error"] = result.error }
            return AdminReply(reply)
        },
    ]
}
