import DepotEngine

/// Event delivery through the admin API: per sink, its backlog, the oldest pending event's age,
/// what it delivered or dropped, and its last error.
extension AdminAPI {
    static let eventRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/events") { api, _ in
            AdminReply(["sinks": api.events.status(), "outbox": api.engine.outboxCount])
        }
    ]
}
