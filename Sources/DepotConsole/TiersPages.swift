import HummingbirdCore

/// Tiers: the list with a create form, a detail page with `Check` (the admin API's tier check),
/// and for a tier made through the API its edit form. Both forms cover every tier type the admin
/// API accepts (TierForm.swift); every change is the admin API's own POST or PUT, so it validates
/// exactly as the API does and its error names the field.
extension ConsoleService {
    /// The list and the create form for `form["type"]` (filesystem when none is chosen). After a
    /// refused create, `form` is what was typed (secrets excepted) and `error` the admin API's answer.
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
        let kind = TierForm.kinds.contains(form["type"] ?? "") ? form["type"]! : "filesystem"
        var values: [String: Any] = [
            "title": "Tiers", "tiers": rows, "hasTiers": !rows.isEmpty, "kind": kind, "form_name": form["name"] ?? "",
            "kinds": TierForm.kinds.map { ["kind": $0, "selected": $0 == kind] },
            "fields": Self.marked(
                TierForm.values(kind: kind, idPrefix: "t", typed: error == nil ? nil : form, current: nil, editing: false),
                invalid: error?.field),
        ]
        if let error {
            values["error"] = error.error
            values["nameInvalid"] = error.field == "name"
        }
        return page("tiers", values, viewer: viewer, status: error == nil ? .ok : .badRequest)
    }

    func createTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let kind = form["type"] ?? ""
        guard TierForm.kinds.contains(kind) else {
            let refusal = AdminAnswer(
                status: 400,
                object: ["field": "type", "error": "must be \(TierForm.kinds.joined(separator: ", ")), got \"\(kind)\""])
            return await tiersPage(viewer, error: refusal)
        }
        var document = TierForm.document(kind: kind, form: form, current: nil)
        if let name = Self.filled(form, ["name"])["name"] { document["name"] = name }
        let answer = await adminCall("POST", "/admin/v1/tiers", document)
        guard answer.ok else { return await tiersPage(viewer, form: form, error: answer) }
        return Self.redirect("/console/tier?" + HTTPForm.query([("name", form["name"] ?? "")]))
    }

    /// A tier's settings, `Check`, and (for a tier made through the API) its edit form, prefilled
    /// from its settings with every secret left blank (blank keeps the stored one), and delete.
    func tierPage(
        _ name: String, viewer: Viewer, check: AdminAnswer? = nil, error: AdminAnswer? = nil,
        edit: [String: String]? = nil, confirmDelete: Bool = false, showFailed: Bool = false, retried: AdminAnswer? = nil
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
        values.merge(await failedCopies(name, show: showFailed, retried: retried)) { $1 }
        let kind = answer.object["type"] as? String ?? ""
        let source = answer.object["source"] as? String ?? "config"
        if let reason = Self.lockedReason("tier", name, source: source) {
            values["lockedReason"] = reason
        } else {
            values.merge(
                Self.deleteValues(
                    what: "tier", name: name, keyField: "name", keyValue: name, page: "/console/tier",
                    action: "/console/tiers/delete", confirm: confirmDelete)
            ) { $1 }
            values["editable"] = true
            values["kind"] = kind
            values["fields"] = Self.marked(
                TierForm.values(kind: kind, idPrefix: "e", typed: edit, current: answer.object, editing: true),
                invalid: error?.field)
        }
        return page("tier", values, viewer: viewer, status: error == nil ? .ok : (error!.status == 409 ? .conflict : .badRequest))
    }

    /// Replaces the tier with the edit form's settings; its type stays (the form has no other's fields).
    func editTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let path = "/admin/v1/tiers/" + HTTPForm.encode(name)
        let current = await adminCall("GET", path)
        guard current.ok else { return problem(.notFound, "No such tier", current.error, viewer) }
        let source = current.object["source"] as? String ?? "config"
        if let reason = Self.lockedReason("tier", name, source: source) {
            return await tierPage(name, viewer: viewer, error: AdminAnswer(status: 409, object: ["error": reason]))
        }
        let kind = current.object["type"] as? String ?? ""
        let answer = await adminCall("PUT", path, TierForm.document(kind: kind, form: form, current: current.object))
        guard answer.ok else { return await tierPage(name, viewer: viewer, error: answer, edit: form) }
        return Self.redirect("/console/tier?" + HTTPForm.query([("name", name)]))
    }

    func checkTier(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let check = await adminCall("POST", "/admin/v1/tiers/" + HTTPForm.encode(name) + "/check")
        return await tierPage(name, viewer: viewer, check: check)
    }

    /// The copies to this tier that are FAILED (no longer retried on their own), listed only when
    /// asked: the admin API finds them by walking every object, too much for each page view.
    func failedCopies(_ tier: String, show: Bool, retried: AdminAnswer?) async -> [String: Any] {
        var values: [String: Any] = [
            "failedLink": "/console/tier?" + HTTPForm.query([("name", tier), ("failed", "show")]),
            "failedShown": Self.failedShown,
        ]
        if let retried {
            values["retried"] = true
            values["retriedText"] =
                retried.ok ? "\(Self.text(retried.object["requeued"] ?? 0)) copies queued again" : retried.error
        }
        guard show else { return values }
        let answer = await adminCall(
            "GET", "/admin/v1/replication/failed?" + HTTPForm.query([("tier", tier), ("limit", "\(Self.failedShown)")]))
        guard answer.ok else {
            values["error"] = answer.error
            return values
        }
        let failed = answer.object["failed"] as? [[String: Any]] ?? []
        values["showingFailed"] = true
        values["hasFailed"] = !failed.isEmpty
        values["moreFailed"] = answer.object["truncated"] as? Bool ?? false
        values["failed"] = failed.map { copy -> [String: Any] in
            let bucket = copy["bucket"] as? String ?? ""
            let key = copy["key"] as? String ?? ""
            return [
                "bucket": bucket, "key": key, "version": copy["versionId"] ?? "current",
                "attempts": Self.text(copy["attempts"] ?? 0),
                "lastError": copy["lastError"] ?? "", "link": objectLink(bucket: bucket, key: key),
            ]
        }
        return values
    }

    /// How many FAILED copies the tier's page lists (the retry queues them all).
    static let failedShown = 50

    /// Queues every FAILED copy to the tier again (the admin API's `POST /admin/v1/replication/retry`).
    func retryFailedCopies(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let answer = await adminCall("POST", "/admin/v1/replication/retry", ["tier": name])
        return await tierPage(name, viewer: viewer, showFailed: true, retried: answer)
    }

    /// Marks the field the admin API's error names (`serverSideEncryption.algorithm` marks
    /// `serverSideEncryption`), so a screen reader announces it as the invalid one.
    static func marked(_ rows: [[String: Any]], invalid field: String?) -> [[String: Any]] {
        rows.map { row in
            var row = row
            let name = row["name"] as? String ?? ""
            row["invalid"] = field.map { $0 == name || $0.hasPrefix(name + ".") || $0.hasPrefix(name + "[") } ?? false
            return row
        }
    }
}
