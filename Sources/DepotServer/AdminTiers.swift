import DepotConfig
import DepotEngine
import Foundation

/// Tiers through the admin API. Tiers made or changed here are kept in the index and laid over
/// the configuration file's (see `AdminOverlay`), so they survive restarts and the file stays
/// the base; deleting an API tier that overrides a file tier brings the file's back.
extension AdminAPI {
    static let tierRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/tiers") { api, call in
            // Paged and filtered (AdminPaging.swift): ?prefix= on the name, ?type=, ?source=.
            let filter = AdminFilter(query: call.query)
            let tiers = api.configuration.tiers.map(api.describe).filter {
                filter.keeps($0, prefixField: "name", exact: ["type": "type", "source": "source"])
            }
            return AdminReply(try AdminPage(call.query).reply("tiers", tiers) { $0["name"] as? String ?? "" })
        },
        AdminRoute(.post, "/admin/v1/tiers") { api, call in
            let object = try call.object()
            guard let name = object["name"] as? String else { throw AdminFailure(.badRequest, "is required", field: "name") }
            guard !api.configuration.tiers.contains(where: { $0.name == name }) else {
                throw AdminFailure(
                    .conflict, "a tier named \(name) exists; PUT /admin/v1/tiers/\(name) replaces it", field: "name")
            }
            return AdminReply(try await api.putTier(name: name, object: object), status: .created)
        },
        AdminRoute(.get, "/admin/v1/tiers/{name}") { api, call in
            AdminReply(api.describe(try api.tier(call.parameter("name"))))
        },
        AdminRoute(.put, "/admin/v1/tiers/{name}") { api, call in
            let name = call.parameter("name")
            let existed = api.configuration.tiers.contains { $0.name == name }
            return AdminReply(try await api.putTier(name: name, object: try call.object()), status: existed ? .ok : .created)
        },
        AdminRoute(.delete, "/admin/v1/tiers/{name}") { api, call in
            AdminReply(try await api.deleteTier(call.parameter("name")))
        },
        AdminRoute(.post, "/admin/v1/tiers/{name}/check") { api, call in
            AdminReply(try await api.check(tier: call.parameter("name")))
        },
    ]

    func tier(_ name: String) throws -> TierSettings {
        guard let tier = configuration.tiers.first(where: { $0.name == name }) else {
            throw AdminFailure(.notFound, "no tier is named \(name)")
        }
        return tier
    }

    /// Creates or replaces a tier; the document has the fields of a `tiers[]` entry.
    func putTier(name: String, object: [String: Any]) async throws -> [String: Any] {
        try validateName(name, what: "tier")
        var document = try documentNamed(name, what: "tier", from: object)
        // A document read back from GET carries masked secrets: keep the stored ones.
        if let current = configuration.tiers.first(where: { $0.name == name }) {
            let stored = [
                "secretKey": current.secretKey, "credentials": current.credentials, "accountKey": current.accountKey,
                "sas": current.sas,
            ]
            for (field, secret) in stored where document[field] as? String == Self.maskedSecret { document[field] = secret }
        }
        let bytes = Array(try JSONSerialization.data(withJSONObject: document, options: [.sortedKeys]))
        // Parsed exactly as the file's entries are: errors name the field.
        let parsed = try DepotConfiguration.parseTierDocument(String(decoding: bytes, as: UTF8.self))
        if let storageClass = parsed.storageClass,
            let other = configuration.tiers.first(where: { $0.name != name && $0.storageClass == storageClass })
        {
            throw AdminFailure(
                .badRequest, "tier \(other.name) declares storage class \(storageClass) already", field: "storageClass")
        }
        try await runtime.change(kind: "tier", name: name, document: bytes)
        return describe(try tier(name))
    }

    func deleteTier(_ name: String) async throws -> [String: Any] {
        _ = try tier(name)
        guard runtime.origin("tier:" + name) != .file else {
            throw AdminFailure(.conflict, "tier \(name) is defined in the configuration file; remove it there")
        }
        let users = configuration.policies.filter { $0.replicateTo.contains(name) }.map(\.name)
        try await runtime.change(kind: "tier", name: name, document: nil) { candidate in
            if candidate.tiers.contains(where: { $0.name == name }) { return }  // the file's tier comes back
            guard users.isEmpty else {
                throw AdminFailure(.conflict, "policies \(users.joined(separator: ", ")) replicate to tier \(name)")
            }
        }
        let back = configuration.tiers.first { $0.name == name }
        return ["deleted": name, "restoredFromConfig": back != nil]
    }

    func check(tier name: String) async throws -> [String: Any] {
        guard let client = tiering.client(named: name) else {
            throw AdminFailure(.notFound, "no tier is named \(name)")
        }
        do {
            try await client.check()
            return ["tier": name, "ok": true]
        } catch {
            return ["tier": name, "ok": false, "error": "\(error)"]
        }
    }

    /// A tier as the API shows it: its settings with secrets masked, and where it comes from.
    func describe(_ tier: TierSettings) -> [String: Any] {
        var out: [String: Any] = [
            "name": tier.name, "type": tier.kind.rawValue, "prefix": tier.prefix, "includeBucket": tier.includeBucket,
            "concurrency": tier.concurrency, "maxAttempts": tier.maxAttempts, "failingAfterSeconds": tier.failingAfter,
            "source": runtime.origin("tier:" + tier.name)?.rawValue ?? "config",
        ]
        if let bandwidth = tier.bandwidth { out["bandwidth"] = bandwidth }
        if let window = tier.window { out["window"] = window.description }
        if let storageClass = tier.storageClass { out["storageClass"] = storageClass }
        switch tier.kind {
        case .filesystem: out["path"] = tier.path
        case .s3:
            out["endpoint"] = tier.endpoint
            out["region"] = tier.region
            out["bucket"] = tier.bucket
            out["pathStyle"] = tier.pathStyle
            out["accessKey"] = tier.accessKey
            out["secretKey"] = Self.maskedSecret
            out["multipartThreshold"] = tier.multipartThreshold
            out["partSize"] = tier.partSize
            out["objectLock"] = tier.objectLock
            if let encryption = tier.serverSideEncryption {
                var shown: [String: Any] = ["algorithm": encryption.algorithm]
                if let kmsKeyId = encryption.kmsKeyId { shown["kmsKeyId"] = kmsKeyId }
                out["serverSideEncryption"] = shown
            }
        case .vault:
            out["endpoint"] = tier.endpoint
            out["provider"] = tier.provider
            out["accessKey"] = tier.accessKey
            out["secretKey"] = Self.maskedSecret
            out["chunkSize"] = tier.partSize
        case .gcs:
            out["endpoint"] = tier.endpoint
            out["bucket"] = tier.bucket
            if !tier.credentials.isEmpty { out["credentials"] = Self.maskedSecret }
            if !tier.tokenURI.isEmpty { out["tokenUri"] = tier.tokenURI }
            out["chunkSize"] = tier.partSize
        case .azure:
            out["endpoint"] = tier.endpoint
            out["account"] = tier.account
            out["container"] = tier.bucket
            if !tier.accountKey.isEmpty { out["accountKey"] = Self.maskedSecret }
            if !tier.sas.isEmpty { out["sas"] = Self.maskedSecret }
            out["blockThreshold"] = tier.multipartThreshold
            out["blockSize"] = tier.partSize
        }
        return out
    }

    /// How a stored secret is shown; sent back in a PUT, it keeps the stored one.
    static let maskedSecret = "********"
}
