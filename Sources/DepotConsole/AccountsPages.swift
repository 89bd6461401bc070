import DepotConfig
import HummingbirdCore

/// Accounts: the list and a create form from templates; the new secret is shown once, on the
/// answer to the form (the admin API keeps no readable copy to show again).
extension ConsoleService {
    /// The templates' grants: what each kind of client needs and nothing more. `required`: the
    /// fields the template cannot do without (refused naming the field when left empty).
    /// - camera: writes its recordings under its own prefix, and cannot read back or list others'.
    /// - viewer: an investigator who must find recordings and play them: listing is how the
    ///   console (and any S3 browser) finds them, so read alone showed no buckets at all. Every
    ///   bucket when none is named, else the buckets named (comma-separated), under the prefix if given.
    /// - ML worker: a service that analyses recordings: it lists what arrived and reads it, in the
    ///   one bucket and prefix it is named for (a service key is scoped to its job, unlike a
    ///   person's). Nothing more: its results (labels, detections) go to its own store or back
    ///   through an event sink, never into the recordings, so a compromised model host can
    ///   neither change nor delete evidence; it learns of new recordings from event sinks, which
    ///   need no grant.
    static let accountTemplates: [(id: String, label: String, actions: [String], required: [String])] = [
        ("camera", "Camera: write-only to a prefix", ["write"], ["bucket", "prefix"]),
        ("viewer", "Viewer: read + list, to find and play recordings", ["read", "list"], []),
        ("ml", "ML worker: read + list in one bucket and prefix", ["read", "list"], ["bucket", "prefix"]),
    ]

    func accountsPage(_ viewer: Viewer, form: [String: String] = [:], error: AdminAnswer? = nil, created: [String: Any]? = nil)
        async -> Response
    {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let list = await adminCall("GET", "/admin/v1/accounts?limit=1000")
        let rows = (list.object["accounts"] as? [[String: Any]] ?? []).map { account -> [String: Any] in
            [
                "name": account["name"] ?? "", "accessKey": account["accessKey"] ?? "",
                "enabled": Self.text(account["enabled"] ?? true), "source": account["source"] ?? "",
                "allow": Self.text(account["allow"] ?? []),
                "link": "/console/account?" + HTTPForm.query([("accessKey", account["accessKey"] as? String ?? "")]),
            ]
        }
        var values: [String: Any] = [
            "title": "Accounts", "accounts": rows, "hasAccounts": !rows.isEmpty,
            "templates": Self.accountTemplates.map {
                ["id": $0.id, "label": $0.label, "selected": $0.id == (form["template"] ?? "camera")] as [String: Any]
            },
        ]
        for name in ["name", "bucket", "prefix"] { values["form_" + name] = form[name] ?? "" }
        if let error { values["error"] = error.error }
        if let created {
            values["created"] = true
            values["newAccessKey"] = created["accessKey"] ?? ""
            values["newSecretKey"] = created["secretKey"] ?? ""
        }
        return page("accounts", values, viewer: viewer, status: error == nil ? .ok : .badRequest)
    }

    func createAccount(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        guard let template = Self.accountTemplates.first(where: { $0.id == form["template"] }) else {
            return await accountsPage(
                viewer, form: form,
                error: AdminAnswer(status: 400, object: ["error": "is not one of the templates", "field": "template"]))
        }
        // A camera writes, and an ML worker reads, in one bucket under one prefix: without them the
        // grant would reach every bucket or every key, which is not what the template promises.
        for field in template.required where Self.filled(form, [field]).isEmpty {
            return await accountsPage(
                viewer, form: form,
                error: AdminAnswer(
                    status: 400,
                    object: ["error": "the \(template.id) template needs one (it works only there)", "field": field]))
        }
        // A viewer may be given several buckets (comma-separated): one grant each. Other
        // templates name one bucket, passed on as typed for the admin API to judge.
        let typedBuckets = (form["bucket"] ?? "").trimmingCharacters(in: .whitespaces)
        let buckets =
            template.id == "viewer"
            ? typedBuckets.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            : (typedBuckets.isEmpty ? [] : [typedBuckets])
        let prefix = Self.filled(form, ["prefix"])["prefix"] as? String
        // No bucket named: the admin API's default, every bucket.
        let allow: [[String: Any]] = (buckets.isEmpty ? [nil] : buckets.map { Optional($0) }).map { bucket in
            var grant: [String: Any] = ["actions": template.actions]
            if let bucket { grant["bucket"] = bucket }
            if let prefix { grant["prefix"] = prefix }
            return grant
        }
        var document: [String: Any] = ["allow": allow]
        if let name = form["name"], !name.isEmpty { document["name"] = name }
        let answer = await adminCall("POST", "/admin/v1/accounts", document)
        guard answer.ok else { return await accountsPage(viewer, form: form, error: answer) }
        return await accountsPage(viewer, created: answer.object)
    }

    /// An account's settings as the admin API describes them (never its secret key); for an
    /// account made through the API, enable/disable and delete.
    func accountPage(
        _ accessKey: String, viewer: Viewer, error: AdminAnswer? = nil, confirmDelete: Bool = false,
        edit: [String: String]? = nil
    ) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let answer = await adminCall("GET", "/admin/v1/accounts/" + HTTPForm.encode(accessKey))
        guard answer.ok else { return problem(.notFound, "No such account", answer.error, viewer) }
        let name = answer.object["name"] as? String ?? accessKey
        var values: [String: Any] = [
            "title": "Account \(name)", "name": name, "facts": Self.facts(answer.object), "listLink": "/console/accounts",
            "listName": "Accounts",
        ]
        if let error { values["error"] = error.error }
        let source = answer.object["source"] as? String ?? "config"
        if source == "api" {
            values["accountEditable"] = true
            values["isEnabled"] = answer.object["enabled"] as? Bool ?? true
            let rows = edit.map(Self.grantRows(form:)) ?? Self.grantRows(allow: answer.object["allow"] as? [[String: Any]] ?? [])
            values["grantRows"] = rows
            values["grantRowCount"] = String(rows.count)
            values["hasGrantRows"] = true
            values.merge(
                Self.deleteValues(
                    what: "account", name: name, keyField: "accessKey", keyValue: accessKey, page: "/console/account",
                    action: "/console/accounts/delete", confirm: confirmDelete)
            ) { $1 }
        } else {
            values["lockedReason"] = Self.lockedReason("account", name, source: source)
        }
        return page(
            "detail", values, viewer: viewer, status: error == nil ? .ok : (error!.status == 409 ? .conflict : .badRequest))
    }

    // MARK: Editing an account's grants

    /// The most grant rows one form is read for (an account's own grants plus a blank one to add).
    static let maximumGrantRows = 1000

    /// `allow` replaced by the form's rows (a row marked remove, or left blank, is left out),
    /// through the admin API's `PATCH`, so it is validated there and a refusal names the grant.
    func editAccountGrants(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let accessKey = form["accessKey"] ?? ""
        var allow: [[String: Any]] = []
        var formRowOfGrant: [Int] = []
        for row in 0..<min(Int(form["rows"] ?? "") ?? 0, Self.maximumGrantRows) {
            guard form["remove-\(row)"] == nil else { continue }
            let bucket = form["bucket-\(row)"]?.trimmingCharacters(in: .whitespaces) ?? ""
            let prefix = form["prefix-\(row)"] ?? ""
            let actions = Action.allCases.map(\.rawValue).filter { form["action-\(row)-\($0)"] != nil }
            if bucket.isEmpty && prefix.isEmpty && actions.isEmpty { continue }
            // An empty bucket is the admin API's default, every bucket ("*").
            var grant: [String: Any] = ["prefix": prefix, "actions": actions]
            if !bucket.isEmpty { grant["bucket"] = bucket }
            allow.append(grant)
            formRowOfGrant.append(row)
        }
        let answer = await adminCall("PATCH", "/admin/v1/accounts/" + HTTPForm.encode(accessKey), ["allow": allow])
        guard answer.ok else {
            return await accountPage(
                accessKey, viewer: viewer, error: Self.namingFormRow(answer, formRowOfGrant), edit: form)
        }
        return Self.redirect("/console/account?" + HTTPForm.query([("accessKey", accessKey)]))
    }

    /// The admin API names a grant by its place in the list it was sent (`allow[1].actions`);
    /// blank and removed rows were not sent, so the name is turned to the form's own row.
    static func namingFormRow(_ answer: AdminAnswer, _ formRowOfGrant: [Int]) -> AdminAnswer {
        guard let field = answer.field, field.hasPrefix("allow["), let close = field.firstIndex(of: "]"),
            let sent = Int(field[field.index(field.startIndex, offsetBy: 6)..<close]), formRowOfGrant.indices.contains(sent)
        else { return answer }
        var object = answer.object
        let row = formRowOfGrant[sent]
        object["field"] = "allow[\(row)]" + field[field.index(after: close)...]
        object["error"] = "(grant \(row + 1)) " + (answer.object["error"] as? String ?? "refused")
        return AdminAnswer(status: answer.status, object: object)
    }

    /// One row of the grants form.
    struct GrantRow {
        var bucket = ""
        var prefix = ""
        var actions: Set<String> = []
        var removed = false
        var isBlank: Bool { bucket.isEmpty && prefix.isEmpty && actions.isEmpty && !removed }
    }

    /// The edit form's rows from the account's grants, and a blank one to add a grant.
    static func grantRows(allow: [[String: Any]]) -> [[String: Any]] {
        grantRows(
            allow.map {
                GrantRow(
                    bucket: $0["bucket"] as? String ?? "*", prefix: $0["prefix"] as? String ?? "",
                    actions: Set(($0["actions"] as? [String]) ?? []))
            })
    }

    /// The rows as the form sent them, remove marks included (kept after a refusal, so nothing
    /// typed is lost).
    static func grantRows(form: [String: String]) -> [[String: Any]] {
        grantRows(
            (0..<min(Int(form["rows"] ?? "") ?? 0, maximumGrantRows)).map { row in
                GrantRow(
                    bucket: form["bucket-\(row)"] ?? "", prefix: form["prefix-\(row)"] ?? "",
                    actions: Set(Action.allCases.map(\.rawValue).filter { form["action-\(row)-\($0)"] != nil }),
                    removed: form["remove-\(row)"] != nil)
            })
    }

    /// The rows as the template shows them, ending with a blank one to add a grant.
    static func grantRows(_ given: [GrantRow]) -> [[String: Any]] {
        var rows = given
        if rows.last.map({ !$0.isBlank }) ?? true { rows.append(GrantRow()) }
        return rows.enumerated().map { index, row in
            let blank = index == rows.count - 1
            return [
                "index": String(index), "legend": blank ? "Add a grant" : "Grant \(index + 1)", "bucket": row.bucket,
                "prefix": row.prefix, "blank": blank, "removed": row.removed,
                "actions": Action.allCases.map {
                    ["action": $0.rawValue, "checked": row.actions.contains($0.rawValue)] as [String: Any]
                },
            ]
        }
    }
}
