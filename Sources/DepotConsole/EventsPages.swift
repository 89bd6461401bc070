import HummingbirdCore

/// Event sinks as the admin API's events status shows them: backlog, oldest pending, delivered,
/// dropped and the last error.
extension ConsoleService {
    func eventsPage(_ viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/events")
        let sinks = (answer.object["sinks"] as? [[String: Any]] ?? []).map { sink -> [String: Any] in
            var row: [String: Any] = [:]
            for name in ["name", "type", "backlog", "oldestPendingAgeSeconds", "delivered", "dropped"] {
                row[name] = Self.text(sink[name] ?? "")
            }
            if let error = sink["lastError"] as? String, !error.isEmpty { row["lastError"] = error }
            return row
        }
        return page(
            "events",
            [
                "title": "Events", "sinks": sinks, "hasSinks": !sinks.isEmpty,
                "outbox": Self.text(answer.object["outbox"] ?? 0),
            ], viewer: viewer)
    }
}
