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

    func tierPage(_ name: String, viewer: Viewer, check: AdminAnswer? = nil) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/tiers/" + HTTPForm.encode(name))
        guard answer.ok else { return problem(.notFound, "No such tier", answer.error, viewer) }
        var values: [String: Any] = ["title": "Tier \(name)", "name": name, "facts": Self.facts(answer.object)]
        if let check {
            values["checked"] = true
            values["checkOK"] = check.ok
            values["checkFacts"] = check.ok ? Self.facts(check.object) : [["name": "error", "value": check.error]]
        }
        return page("tier", values, viewer: viewer)
    }

    func checkTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let check = await adminCall("POST", "/admin/v1/tiers/" + HTTPForm.encode(name) + "/check")
        return await tierPage(name, viewer: viewer, check: check)
    }
}
