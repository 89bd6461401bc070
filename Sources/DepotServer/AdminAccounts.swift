import DepotConfig
import DepotEngine
import DepotHashing
import Foundation

/// Accounts through the admin API. Accounts made here are kept in the index (as with
/// `depot account add`); those of the configuration file are shown but edited in the file.
extension AdminAPI {
    static let accountRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/accounts") { api, call in
            // Paged and filtered (AdminPaging.swift): ?prefix= on the name, ?enabled=, ?source=.
            let filter = AdminFilter(query: call.query)
            let accounts = try api.allAccounts().map { api.describe($0.account, origin: $0.origin) }.filter {
                filter.keeps($0, prefixField: "name", exact: ["enabled": "enabled", "source": "source"])
            }
            return AdminReply(
                try AdminPage(call.query).reply("accounts", accounts) {
                    "\($0["name"] ?? "")\u{0}\($0["accessKey"] ?? "")"
                })
        },
        AdminRoute(.post, "/admin/v1/accounts") { api, call in
            AdminReply(try await api.createAccount(try call.object()), status: .created)
        },
        AdminRoute(.get, "/admin/v1/accounts/{accessKey}") { api, call in
            let (account, origin) = try api.account(call.parameter("accessKey"))
            return AdminReply(api.describe(account, origin: origin))
        },
        AdminRoute(.patch, "/admin/v1/accounts/{accessKey}") { api, call in
            AdminReply(try await api.updateAccount(call.parameter("accessKey"), try call.object()))
        },
        AdminRoute(.delete, "/admin/v1/accounts/{accessKey}") { api, call in
            let accessKey = call.parameter("accessKey")
            let (_, origin) = try api.account(accessKey)
            guard origin == "api" else {
                throw AdminFailure(.conflict, "account \(accessKey) is defined in the \(origin); it cannot be deleted here")
            }
            try await api.engine.removeStoredAccount(accessKey: accessKey)
            try await api.runtime.rebuild()
            return AdminReply(["deleted": accessKey])
        },
    ]

    /// Every account but root, with where it comes from ("config" or "api").
    func allAccounts() throws -> [(account: Account, origin: String)] {
        let config = configuration.accounts
        let stored = try StoredAccounts.load(engine).filter { account in !config.contains { $0.accessKey == account.accessKey } }
        return config.map { ($0, "config") } + stored.map { ($0, "api") }
    }

    func account(_ accessKey: String) throws -> (Account, String) {
        guard let found = try allAccounts().first(where: { $0.account.accessKey == accessKey }) else {
            throw AdminFailure(.notFound, "no account has access key \(accessKey)")
        }
        return found
    }

    /// Creates an account; the secret is in the reply and nowhere else afterwards. The document
    /// has the fields of an `accounts[]` entry; accessKey and secretKey are generated when left out.
    func createAccount(_ object: [String: Any]) async throws -> [String: Any] {
        var document = object
        if document["accessKey"] == nil { document["accessKey"] = "DPT" + Hex.encode(secureRandomBytes(8)).uppercased() }
        if document["secretKey"] == nil {
            document["secretKey"] = Base64.encode(secureRandomBytes(30)).replacingOccurrences(of: "/", with: "_")
                .replacingOccurrences(of: "+", with: "-")
        }
        let bytes = try JSONSerialization.data(withJSONObject: document)
        let account = try DepotConfiguration.parseAccountDocument(String(decoding: bytes, as: UTF8.self))
        guard accounts.account(accessKey: account.accessKey) == nil else {
            throw AdminFailure(.conflict, "access key \(account.accessKey) is taken", field: "accessKey")
        }
        try await StoredAccounts.save(account, in: engine)
        try await runtime.rebuild()
        var out = describe(account, origin: "api")
        out["secretKey"] = account.secretKey
        return out
    }

    /// Changes an API account's grants (`allow`), Vault settings, `quota` or `enabled` (disable).
    func updateAccount(_ accessKey: String, _ object: [String: Any]) async throws -> [String: Any] {
        let (current, origin) = try account(accessKey)
        guard origin == "api" else {
            throw AdminFailure(.conflict, "account \(accessKey) is defined in the \(origin); edit it there")
        }
        for field in object.keys where !["allow", "enabled", "vault", "name", "quota"].contains(field) {
            throw AdminFailure(.badRequest, "cannot be changed (allow, enabled, vault, quota and name can)", field: field)
        }
        var document: [String: Any] = [
            "name": current.name, "accessKey": current.accessKey, "secretKey": current.secretKey, "enabled": current.enabled,
            "allow": current.grants.map {
                ["bucket": $0.bucket, "prefix": $0.prefix, "actions": $0.actions.map(\.rawValue).sorted()]
            },
        ]
        if let vault = current.vault {
            var section: [String: Any] = [
                "directory": vault.directory, "bucket": vault.bucket, "retentionDays": vault.retentionDays,
                "enabled": vault.enabled,
            ]
            if let retention = vault.retention { section["retention"] = retention.document }
            document["vault"] = section
        }
        if let quota = current.quota { document["quota"] = Self.quotaDocument(quota) }
        // `"quota": null` removes the quota.
        for (field, value) in object { document[field] = value is NSNull ? nil : value }
        let bytes = try JSONSerialization.data(withJSONObject: document)
        let account = try DepotConfiguration.parseAccountDocument(String(decoding: bytes, as: UTF8.self))
        try await StoredAccounts.save(account, in: engine)
        try await runtime.rebuild()
        return describe(account, origin: "api")
    }

    /// An account as the API shows it: never its secret.
    func describe(_ account: Account, origin: String) -> [String: Any] {
        var out: [String: Any] = [
            "name": account.name, "accessKey": account.accessKey, "enabled": account.enabled, "source": origin,
            "allow": account.grants.map {
                ["bucket": $0.bucket, "prefix": $0.prefix, "actions": $0.actions.map(\.rawValue).sorted()] as [String: Any]
            },
        ]
        if let vault = account.vault {
            var section: [String: Any] = [
                "directory": vault.directory, "bucket": vault.bucket, "retentionDays": vault.retentionDays,
                "enabled": vault.enabled,
            ]
            if let retention = vault.retention { section["retention"] = retention.document }
            out["vault"] = section
        }
        if let quota = account.quota { out["quota"] = Self.quotaDocument(quota) }
        // What it owns now (committed objects' logical sizes, and the stored parts of its uploads
        // in progress), kept exact by every commit; the byte quota holds bytes + uploadingBytes.
        if let usage = try? engine.usage(of: account.accessKey) {
            out["usage"] = [
                "bytes": Int(clamping: usage.bytes), "objects": Int(clamping: usage.objects),
                "uploadingBytes": Int(clamping: usage.uploading),
            ]
        }
        return out
    }

    static func quotaDocument(_ quota: StorageQuota) -> [String: Any] {
        var out: [String: Any] = [:]
        if let bytes = quota.bytes { out["bytes"] = Int(clamping: bytes) }
        if let objects = quota.objects { out["objects"] = Int(clamping: objects) }
        return out
    }
}
