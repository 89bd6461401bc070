import HummingbirdCore

/// Tiers: the list with a create form, a detail page with `Check` (the admin API's tier check).
extension ConsoleService {
    static let tierFields = ["name", "type", "path", "endpoint", "region", "bucket", "prefix", "accessKey", "secretKey"]

    func tiersPage(_ viewer: Viewer, form: [String: String] = [:], error: AdminAnswer? = nil) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let list = await adminCall("GET", "/admin/v1/tiers?limit=1000")
        let rows = (list.object["tiers"] as? [[String: Any]] ?? []).map { tier -> [String: Any] in
            let name = tier["name"] as? String ?? ""
            return [
                "name": name, "type": tier["type"] ?? "", "source": tier["source"] ?? "",
                "link": "/console/tier?" + HTTPForm.query([("name", name)]),
            ]
        }
        var values: [String: Any] = ["title": "Tiers", "tiers": rows, "hasTiers": !rows.isEmpty]
        for name in Self.tierFields where name != "secretKey" { values["form_" + name] = form[name] ?? "" }
        values["type_" + (form["type"] ?? "filesystem")] = true
        if let error { values["error"] = error.error }
        return page("tiers", values, viewer: viewer, status: error == nil ? .ok : .badRequest)
    }

    func createTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        var document = Self.filled(form, Self.tierFields)
        // A filesystem tier has no S3 fields and an S3 tier no path: the other type's leftovers are dropped.
        let s3Only = ["endpoint", "region", "bucket", "prefix", "accessKey", "secretKey"]
        if document["type"] as? String == "filesystem" { s3Only.forEach { document[$0] = nil } } else { document["path"] = nil }
        let answer = await adminCall("POST", "/admin/v1/tiers", document)
        guard answer.ok else { return await tiersPage(viewer, form: form, error: answer) }
        return Self.redirect("/console/tier?" + HTTPForm.query([("name", form["name"] ?? "")]))
    }

    /// A tier's settings, `Check`, and (for a tier made through the API) its edit form, prefilled
    /// with the secret masked (a masked secret sent back keeps the stored one), and delete.
    func tierPage(
        _ name: String, viewer: Viewer, check: AdminAnswer? = nil, error: AdminAnswer? = nil,
        edit: [String: String]? = nil, confirmDelete: Bool = false
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/tiers/" + HTTPForm.encode(name))
        guard answer.ok else { return problem(.notFound, "No such tier", answer.error, viewer) }
        var values: [String: Any] = ["title": "Tier \(name)", "name": name, "facts": Self.facts(answer.object)]
        if let check {
            values["checked"] = true
            // The check's answer is 200 either way: whether the tier answered is its `ok` field.
            values["checkOK"] = check.ok && (check.object["ok"] as? Bool ?? false)
            values["checkFacts"] = check.ok ? Self.facts(check.object) : [["name": "error", "value": check.error]]
        }
        if let error { values["error"] = error.error }
        let type = answer.object["type"] as? String ?? ""
        let source = answer.object["source"] as? String ?? "config"
        if let reason = Self.lockedReason("tier", name, source: source) {
            values["lockedReason"] = reason
        } else {
            values.merge(
                Self.deleteValues(
                    what: "tier", name: name, keyField: "name", keyValue: name, page: "/console/tier",
                    action: "/console/tiers/delete", confirm: confirmDelete)
            ) { $1 }
            if type == "filesystem" || type == "s3" {
                values["editable"] = true
                values["isFilesystem"] = type == "filesystem"
                values["edit_type"] = type
                for field in ["path", "endpoint", "region", "bucket", "prefix", "accessKey", "secretKey"] {
                    // After a refused edit the form shows what was typed (a typed secret is not sent back).
                    let typed = field == "secretKey" ? nil : edit?[field]
                    values["edit_" + field] = typed ?? answer.object[field].map { Self.text($0) } ?? ""
                }
            } else {
                values["lockedReason"] = "a \(type) tier is edited through the admin API (PUT /admin/v1/tiers/\(name))"
            }
        }
        return page("tier", values, viewer: viewer, status: error == nil ? .ok : (error!.status == 409 ? .conflict : .badRequest))
    }

    func checkTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let check = await adminCall("POST", "/admin/v1/tiers/" + HTTPForm.encode(name) + "/check")
        return await tierPage(name, viewer: viewer, check: check)
    }
}
