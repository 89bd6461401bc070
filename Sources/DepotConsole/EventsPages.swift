import HummingbirdCore

/// Event sinks as the admin API's events status shows them: backlog, oldest pending, delivered,
/// dropped and the last error.
extension ConsoleService {
    func eventsPage(_ viewer: Viewer, validation: (sink: String, answer: AdminAnswer)? = nil) async -> Response {
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
        var values: [String: Any] = [
            "title": "Events", "sinks": sinks, "hasSinks": !sinks.isEmpty, "outbox": Self.text(answer.object["outbox"] ?? 0),
        ]
        if let validation {
            let delivered = validation.answer.object["delivered"] as? Bool == true
            values["validated"] =
                [
                    "sink": validation.sink, "delivered": delivered,
                    "error": validation.answer.object["error"] as? String ?? validation.answer.error,
                ] as [String: Any]
        }
        return page("events", values, viewer: viewer)
    }

    /// `Validate`: one test event through the sink's own delivery path (the admin API's validate).
    func validateSink(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let answer = await adminCall("POST", "/admin/v1/events/" + HTTPForm.encode(name) + "/validate")
        return await eventsPage(viewer, validation: (name, answer))
    }
}
