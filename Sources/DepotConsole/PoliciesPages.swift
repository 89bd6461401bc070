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
        for name in ["name", "bucket", "prefix", "tier"] { values["form_" + name] = form[name] ?? "" }
        values["modes"] = Self.replicationModes(selected: form["mode"] ?? "continuous")
        values["form_deletes"] = form["deletes"] == "true"
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
        var match = Self.filled(form, ["bucket", "prefix"])
        if match["prefix"] == nil { match["prefix"] = "" }
        var document: [String: Any] = ["match": match]
        document["replicate"] = Self.replication(form, current: nil)
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
            let match = answer.object["match"] as? [String: Any] ?? [:]
            let replicate = answer.object["replicate"] as? [String: Any] ?? [:]
            values["edit_bucket"] = edit?["bucket"] ?? match["bucket"] as? String ?? ""
            values["edit_prefix"] = edit?["prefix"] ?? match["prefix"] as? String ?? ""
            values["edit_tier"] = edit?["tier"] ?? (replicate["to"] as? [String])?.joined(separator: ", ") ?? ""
            values["modes"] = Self.replicationModes(selected: edit?["mode"] ?? replicate["mode"] as? String ?? "continuous")
            values["edit_deletes"] = edit.map { $0["deletes"] == "true" } ?? (replicate["deletes"] as? Bool ?? false)
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

    /// The policy's `replicate` from the form: the tiers named (comma-separated), the mode and
    /// whether deletes reach the copies, laid over the policy's own (`current`, so its versions
    /// and encryptedObjects stay); nil when no tier is named. Values are passed on as typed: the
    /// admin API refuses a wrong one naming it (`replicate.to[1]`, `replicate.mode`).
    static func replication(_ form: [String: String], current: [String: Any]?) -> [String: Any]? {
        let tiers = (form["tier"] ?? "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            .filter { !$0.isEmpty }
        guard !tiers.isEmpty else { return nil }
        var replicate = current ?? [:]
        replicate["to"] = tiers
        replicate["mode"] = form["mode"].flatMap { $0.isEmpty ? nil : $0 } ?? "continuous"
        replicate["deletes"] = form["deletes"] == "true"
        replicate["deleteMarkersOnly"] = nil  // shown for S3 replication rules, not a setting
        return replicate
    }

    /// The replication mode menu's options, as the admin API names them.
    static func replicationModes(selected: String) -> [[String: Any]] {
        [
            ["value": "continuous", "label": "continuous", "selected": selected == "continuous"],
            ["value": "on-demand", "label": "on demand", "selected": selected == "on-demand"],
        ]
    }
}
