import HummingbirdCore

/// Accounts: the list and a create form from templates; the new secret is shown once, on the
/// answer to the form (the admin API keeps no readable copy to show again).
extension ConsoleService {
    /// The templates' grants: what each kind of client needs and nothing more.
    static let accountTemplates: [(id: String, label: String, actions: [String])] = [
        ("camera", "Camera: write-only to a prefix", ["write"]),
        ("viewer", "Viewer: read-only", ["read"]),
        ("ml", "ML worker: read + list", ["read", "list"]),
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
        var grant = Self.filled(form, ["bucket", "prefix"])
        grant["actions"] = template.actions
        var document: [String: Any] = ["allow": [grant]]
        if let name = form["name"], !name.isEmpty { document["name"] = name }
        let answer = await adminCall("POST", "/admin/v1/accounts", document)
        guard answer.ok else { return await accountsPage(viewer, form: form, error: answer) }
        return await accountsPage(viewer, created: answer.object)
    }

    /// An account's settings as the admin API describes them (never its secret key); for an
    /// account made through the API, enable/disable and delete.
    func accountPage(_ accessKey: String, viewer: Viewer, error: AdminAnswer? = nil, confirmDelete: Bool = false) async
        -> Response
    {
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
            values["editable"] = true
            values["isEnabled"] = answer.object["enabled"] as? Bool ?? true
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
}
