import HummingbirdCore

/// Editing and deleting tiers, policies and accounts from their pages. Every change is the admin
/// API's own PUT, PATCH or DELETE (so the same validation and errors naming the field); the
/// console only decides which items it offers to change: those made through the API or the
/// console. Items from the configuration file or from a bucket's S3 configuration say why not.
extension ConsoleService {
    /// Why the console offers no edit for an item from `source` (the admin API's `source` field), or nil.
    static func lockedReason(_ what: String, _ name: String, source: String) -> String? {
        switch source {
        case "api", "api (overrides config)": return nil
        case "s3-lifecycle":
            return
                "\(what) \(name) comes from a bucket's S3 lifecycle configuration; change it with PutBucketLifecycleConfiguration or DeleteBucketLifecycle"
        case "s3-replication":
            return
                "\(what) \(name) comes from a bucket's S3 replication configuration; change it with PutBucketReplication or DeleteBucketReplication"
        case "config": return "\(what) \(name) is defined in the configuration file; change it there"
        default: return "\(what) \(name) comes from \(source); change it there"
        }
    }

    /// The values of the delete box (EditTemplates.deleteBox) for an item's page.
    static func deleteValues(
        what: String, name: String, keyField: String, keyValue: String, page: String, action: String, confirm: Bool
    ) -> [String: Any] {
        let pageLink = page + "?" + HTTPForm.query([(keyField, keyValue)])
        return [
            "deletable": true, "confirmDelete": confirm, "what": what, "keyField": keyField, "keyValue": keyValue,
            "confirmLink": pageLink + "&confirm=delete", "cancelLink": pageLink, "deleteAction": action,
        ]
    }

    /// The edit and delete forms; nil for a path that is not one of them.
    func submitEdit(_ path: String, _ form: [String: String], viewer: Viewer) async -> Response? {
        switch path {
        case "/console/tiers/edit": return await editTier(form, viewer: viewer)
        case "/console/tiers/delete": return await deleteItem(form, viewer: viewer, kind: "tier")
        case "/console/tiers/retry": return await retryFailedCopies(form, viewer: viewer)
        case "/console/policies/edit": return await editPolicy(form, viewer: viewer)
        case "/console/policies/delete": return await deleteItem(form, viewer: viewer, kind: "policy")
        case "/console/accounts/enable": return await setAccountEnabled(form, viewer: viewer)
        case "/console/accounts/grants": return await editAccountGrants(form, viewer: viewer)
        case "/console/accounts/delete": return await deleteItem(form, viewer: viewer, kind: "account")
        default: return nil
        }
    }

    /// `action=dryrun` shows what the edited policy would match and keeps the form; `action=save` saves it.
    func editPolicy(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let name = form["name"] ?? ""
        let path = "/admin/v1/policies/" + HTTPForm.encode(name)
        let current = await adminCall("GET", path)
        guard current.ok else { return problem(.notFound, "No such policy", current.error, viewer) }
        if let reason = Self.lockedReason("policy", name, source: current.object["source"] as? String ?? "config") {
            return await policyPage(name, viewer: viewer, error: AdminAnswer(status: 409, object: ["error": reason]))
        }
        // The form has every field a policy document takes (PolicyForm.swift): it replaces the policy.
        var document = PolicyForm.document(form)
        document["name"] = name
        if form["action"] == "dryrun" {
            var unnamed = document
            unnamed["name"] = nil
            let answer = await adminCall("POST", "/admin/v1/policies/dry-run", unnamed)
            return await policyPage(name, viewer: viewer, error: answer.ok ? nil : answer, edit: form, editDryRun: answer)
        }
        let answer = await adminCall("PUT", path, document)
        guard answer.ok else { return await policyPage(name, viewer: viewer, error: answer, edit: form) }
        return Self.redirect("/console/policy?" + HTTPForm.query([("name", name)]))
    }

    func setAccountEnabled(_ form: [String: String], viewer: Viewer) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        let accessKey = form["accessKey"] ?? ""
        let answer = await adminCall(
            "PATCH", "/admin/v1/accounts/" + HTTPForm.encode(accessKey), ["enabled": form["enabled"] == "true"])
        guard answer.ok else { return await accountPage(accessKey, viewer: viewer, error: answer) }
        return Self.redirect("/console/account?" + HTTPForm.query([("accessKey", accessKey)]))
    }

    /// The confirmed delete (the page's first press only asked); the admin API refuses what is
    /// not its to delete, and its message is shown on the item's page.
    func deleteItem(_ form: [String: String], viewer: Viewer, kind: String) async -> Response {
        if let refused = refuseUnlessAdmin(viewer) { return refused }
        switch kind {
        case "tier":
            let name = form["name"] ?? ""
            let answer = await adminCall("DELETE", "/admin/v1/tiers/" + HTTPForm.encode(name))
            return answer.ok ? Self.redirect("/console/tiers") : await tierPage(name, viewer: viewer, error: answer)
        case "policy":
            let name = form["name"] ?? ""
            let answer = await adminCall("DELETE", "/admin/v1/policies/" + HTTPForm.encode(name))
            return answer.ok ? Self.redirect("/console/policies") : await policyPage(name, viewer: viewer, error: answer)
        default:
            let accessKey = form["accessKey"] ?? ""
            let answer = await adminCall("DELETE", "/admin/v1/accounts/" + HTTPForm.encode(accessKey))
            return answer.ok
                ? Self.redirect("/console/accounts") : await accountPage(accessKey, viewer: viewer, error: answer)
        }
    }
}
