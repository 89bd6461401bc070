import Foundation
import HTTPTypes
import HummingbirdCore

/// Event sinks: the list with each sink's backlog, deliveries and last error and a create form;
/// a sink's page with its delivery status, `Validate` (a test event through the sink's own
/// delivery path), its edit form and delete. Every change is the admin API's own POST, PUT or
/// DELETE on `/admin/v1/events`, so the validation and the errors naming the field are its own;
/// secrets are never written back into a page.
extension ConsoleService {
    typealias SinkValidation = (sink: String, answer: AdminAnswer)

    func eventsPage(
        _ viewer: Viewer, kind requested: String = "", form: [String: String] = [:], error: AdminAnswer? = nil,
        validation: SinkValidation? = nil
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/events")
        let sinks = (answer.object["sinks"] as? [[String: Any]] ?? []).map { sink -> [String: Any] in
            var row: [String: Any] = [:]
            for name in ["name", "type", "backlog", "oldestPendingAgeSeconds", "delivered", "dropped"] {
                row[name] = Self.text(sink[name] ?? "")
            }
            row["link"] = "/console/event?" + HTTPForm.query([("name", Self.text(sink["name"] ?? ""))])
            if let error = sink["lastError"] as? String, !error.isEmpty { row["lastError"] = error }
            return row
        }
        let kind = SinkForm.kinds.contains(requested) ? requested : SinkForm.kinds[0]
        var values: [String: Any] = [
            "title": "Events", "sinks": sinks, "hasSinks": !sinks.isEmpty, "outbox": Self.text(answer.object["outbox"] ?? 0),
            "kind": kind, "kinds": SinkForm.kinds.map { ["kind": $0, "selected": $0 == kind] },
            "form_name": form["name"] ?? "",
            "fields": SinkForm.values(
                kind: kind, idPrefix: "s-", typed: error == nil ? nil : form, current: [:], errorField: error?.field),
        ]
        if let error {
            values["error"] = error.error
            if error.field == "name" { values["nameInvalid"] = true }
        }
        if let validation { values["validated"] = Self.validationValues(validation) }
        return page("events", values, viewer: viewer, status: error.map(Self.refusalStatus) ?? .ok)
    }

    func createSink(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let kind = form["type"] ?? ""
        guard SinkForm.kinds.contains(kind) else {
            return await eventsPage(
                viewer, form: form,
                error: AdminAnswer(
                    status: 400, object: ["error": "must be one of \(SinkForm.kinds.joined(separator: ", "))", "field": "type"]))
        }
        var document = SinkForm.document(kind: kind, form: form, current: [:])
        document["name"] = form["name"]?.trimmingCharacters(in: .whitespaces) ?? ""
        let answer = await adminCall("POST", "/admin/v1/events", document)
        guard answer.ok else { return await eventsPage(viewer, kind: kind, form: form, error: answer) }
        return Self.redirect("/console/event?" + HTTPForm.query([("name", document["name"] as? String ?? "")]))
    }

    /// A sink's page: delivery status, `Validate`, settings (secrets masked by the admin API), and
    /// for a sink made through the API or the console its edit form (prefilled, secrets blank:
    /// left blank they stay as stored) and delete.
    func sinkPage(
        _ name: String, viewer: Viewer, error: AdminAnswer? = nil, edit: [String: String]? = nil,
        validation: SinkValidation? = nil, confirmDelete: Bool = false
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/events/" + HTTPForm.encode(name))
        guard answer.ok else { return problem(.notFound, "No such event sink", answer.error, viewer) }
        let kind = answer.object["type"] as? String ?? ""
        var settings = answer.object
        settings["status"] = nil
        let status = answer.object["status"] as? [String: Any] ?? [:]
        var values: [String: Any] = [
            "title": "Event sink \(name)", "name": name, "kind": kind, "facts": Self.facts(settings),
            "status": Self.sinkStatusRows.map { field, label in
                ["name": label, "value": status[field].map { Self.text($0) }.flatMap { $0.isEmpty ? nil : $0 } ?? "—"]
            },
        ]
        if let error { values["error"] = error.error }
        if let validation { values["validated"] = Self.validationValues(validation) }
        if let reason = Self.lockedReason("event sink", name, source: answer.object["source"] as? String ?? "config") {
            values["lockedReason"] = reason
        } else {
            values["editable"] = true
            values["fields"] = SinkForm.values(
                kind: kind, idPrefix: "se-", typed: edit, current: answer.object, errorField: error?.field)
            values.merge(
                Self.deleteValues(
                    what: "event sink", name: name, keyField: "name", keyValue: name, page: "/console/event",
                    action: "/console/events/delete", confirm: confirmDelete)
            ) { $1 }
        }
        return page("sink", values, viewer: viewer, status: error.map(Self.refusalStatus) ?? .ok)
    }

    /// The sink forms: create, edit, delete and validate.
    func submitSinkForm(_ path: String, _ form: [String: String], viewer: Viewer) async -> Response {
        switch path {
        case "/console/events": return await createSink(form, viewer: viewer)
        case "/console/events/edit": return await editSink(form, viewer: viewer)
        case "/console/events/delete": return await deleteSink(form, viewer: viewer)
        case "/console/events/validate": return await validateSink(form, viewer: viewer)
        default: return problem(.notFound, "Not found", "There is no such form.", viewer)
        }
    }

    func editSink(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let path = "/admin/v1/events/" + HTTPForm.encode(name)
        let current = await adminCall("GET", path)
        guard current.ok else { return problem(.notFound, "No such event sink", current.error, viewer) }
        if let reason = Self.lockedReason("event sink", name, source: current.object["source"] as? String ?? "config") {
            return await sinkPage(name, viewer: viewer, error: AdminAnswer(status: 409, object: ["error": reason]))
        }
        let kind = current.object["type"] as? String ?? ""
        let answer = await adminCall("PUT", path, SinkForm.document(kind: kind, form: form, current: current.object))
        guard answer.ok else { return await sinkPage(name, viewer: viewer, error: answer, edit: form) }
        return Self.redirect("/console/event?" + HTTPForm.query([("name", name)]))
    }

    func deleteSink(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let answer = await adminCall("DELETE", "/admin/v1/events/" + HTTPForm.encode(name))
        return answer.ok ? Self.redirect("/console/events") : await sinkPage(name, viewer: viewer, error: answer)
    }

    /// `Validate`: one test event through the sink's own delivery path (the admin API's validate),
    /// shown on the page the button was on.
    func validateSink(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let answer = await adminCall("POST", "/admin/v1/events/" + HTTPForm.encode(name) + "/validate")
        if form["from"] == "sink" { return await sinkPage(name, viewer: viewer, validation: (name, answer)) }
        return await eventsPage(viewer, validation: (name, answer))
    }

    /// The admin API's status fields a sink's page shows, with their labels.
    static let sinkStatusRows = [
        ("backlog", "Backlog"), ("oldestPendingAgeSeconds", "Oldest pending (s)"), ("delivered", "Delivered"),
        ("dropped", "Dropped"), ("failing", "Failing"), ("lastError", "Last error"),
    ]

    static func validationValues(_ validation: SinkValidation) -> [String: Any] {
        [
            "sink": validation.sink, "delivered": validation.answer.object["delivered"] as? Bool == true,
            "error": validation.answer.object["error"] as? String ?? validation.answer.error,
        ]
    }

    static func refusalStatus(_ answer: AdminAnswer) -> HTTPResponse.Status {
        switch answer.status {
        case 404: return .notFound
        case 409: return .conflict
        default: return .badRequest
        }
    }
}
