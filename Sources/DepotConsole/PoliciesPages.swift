import HummingbirdCore

/// Policies: the list and a create form whose `Dry run` shows what the policy would match before
/// it is saved (the admin API's dry run of an unsaved policy).
extension ConsoleService {
    func policiesPage(
        _ viewer: Viewer, form: [String: String] = [:], error: AdminAnswer? = nil, dryRun: AdminAnswer? = nil
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let list = await adminCall("GET", "/admin/v1/policies?limit=1000")
        let rows = (list.object["policies"] as? [[String: Any]] ?? []).map { policy -> [String: Any] in
            [
                "name": policy["name"] ?? "", "source": policy["source"] ?? "",
                "match": Self.text(policy["match"] ?? [:]), "replicate": Self.text(policy["replicate"] ?? ""),
                "link": "/console/policy?" + HTTPForm.query([("name", policy["name"] as? String ?? "")]),
            ]
        }
        var values: [String: Any] = [
            "title": "Policies", "policies": rows, "hasPolicies": !rows.isEmpty, "tierNames": tierNames(),
        ]
        values["form_name"] = form["name"] ?? ""
        values["nameInvalid"] = error?.field == "name"
        values["sections"] = PolicyForm.values(
            idPrefix: "p", typed: form.isEmpty ? nil : form, current: nil, invalid: error?.field)
        if let error { values["error"] = error.error }
        if let dryRun, dryRun.ok {
            values["dryRun"] = true
            values["dryMatches"] = Self.text(dryRun.object["matches"] ?? 0)
            values["dryBytes"] = Self.text(dryRun.object["bytes"] ?? 0)
            values["dryObjects"] = (dryRun.object["objects"] as? [[String: Any]] ?? []).prefix(20).map {
                ["bucket": $0["bucket"] ?? "", "key": $0["key"] ?? "", "size": Self.text($0["size"] ?? 0)]
            }
        }
        return page("policies", values, viewer: viewer, status: error == nil ? .ok : .badRequest)
    }

    /// `action=dryrun` answers with the dry run and the form still filled in; `action=save` creates.
    func submitPolicy(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        var document = PolicyForm.document(form)
        if form["action"] == "dryrun" {
            let answer = await adminCall("POST", "/admin/v1/policies/dry-run", document)
            return await policiesPage(viewer, form: form, error: answer.ok ? nil : answer, dryRun: answer)
        }
        if let name = form["name"], !name.isEmpty { document["name"] = name }
        let answer = await adminCall("POST", "/admin/v1/policies", document)
        guard answer.ok else { return await policiesPage(viewer, form: form, error: answer) }
        return Self.redirect("/console/policies")
    }

    /// A policy's settings and, from the admin API's dry run of the saved policy, what it matches
    /// now; for a policy made through the API, an edit form (with its own dry run) and delete.
    func policyPage(
        _ name: String, viewer: Viewer, error: AdminAnswer? = nil, edit: [String: String]? = nil,
        editDryRun: AdminAnswer? = nil, confirmDelete: Bool = false
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let path = "/admin/v1/policies/" + HTTPForm.encode(name)
        let answer = await adminCall("GET", path)
        guard answer.ok else { return problem(.notFound, "No such policy", answer.error, viewer) }
        var values: [String: Any] = [
            "title": "Policy \(name)", "name": name, "facts": Self.facts(answer.object), "listLink": "/console/policies",
            "listName": "Policies",
        ]
        let dryRun = await adminCall("POST", path + "/dry-run?limit=0")
        if dryRun.ok {
            values["dryRun"] = [
                "matches": Self.text(dryRun.object["matches"] ?? 0), "bytes": Self.text(dryRun.object["bytes"] ?? 0),
            ]
        }
        if let error { values["error"] = error.error }
        if let reason = Self.lockedReason("policy", name, source: answer.object["source"] as? String ?? "config") {
            values["lockedReason"] = reason
        } else {
            values["editable"] = true
            values["tierNames"] = tierNames()
            values["sections"] = PolicyForm.values(
                idPrefix: "pe", typed: edit, current: answer.object, invalid: error?.field)
            if let editDryRun, editDryRun.ok {
                values["dryRunEdit"] = true
                values["dryMatches"] = Self.text(editDryRun.object["matches"] ?? 0)
                values["dryBytes"] = Self.text(editDryRun.object["bytes"] ?? 0)
                values["dryObjects"] = (editDryRun.object["objects"] as? [[String: Any]] ?? []).prefix(20).map {
                    ["bucket": $0["bucket"] ?? "", "key": $0["key"] ?? "", "size": Self.text($0["size"] ?? 0)]
                }
            }
            values.merge(
                Self.deleteValues(
                    what: "policy", name: name, keyField: "name", keyValue: name, page: "/console/policy",
                    action: "/console/policies/delete", confirm: confirmDelete)
            ) { $1 }
        }
        return page(
            "detail", values, viewer: viewer, status: error == nil ? .ok : (error!.status == 409 ? .conflict : .badRequest))
    }
}
