import DepotEngine

/// A Kerberos Vault storage provider: the name an agent puts in `X-Kerberos-Storage-Provider`,
/// and where a recording uploaded through it goes: the bucket it is stored in, and the tiers it
/// is forwarded to (replicated at once, as Vault copies to an account's secondary providers).
///
/// Configured at the top level (`providers:`) and granted per account (`vault.providers`, a list
/// of names whose first is the account's default). An account without `vault.providers` keeps
/// Depot's earlier behaviour: everything goes to `vault.bucket` whatever provider the agent
/// names, so agents set up before providers existed keep working.
public struct VaultProvider: Sendable, Equatable, Codable {
    public var name: String
    public var bucket: String
    public var forwardTo: [String]

    public init(name: String, bucket: String, forwardTo: [String] = []) {
        self.name = name
        self.bucket = bucket
        self.forwardTo = forwardTo
    }
}

extension DepotConfiguration {
    /// The buckets created at start when missing: `buckets:` and every provider's bucket, so a
    /// provider never routes recordings into a bucket that does not exist.
    public var bucketsToCreate: [String] {
        var names = buckets
        for provider in providers where !names.contains(provider.bucket) { names.append(provider.bucket) }
        return names
    }

    /// `providers:`: unique names, valid bucket names, and `forwardTo` naming configured tiers.
    static func parseProviders(_ node: ConfigNode, tiers: [TierSettings]) throws -> [VaultProvider] {
        var providers: [VaultProvider] = []
        for item in try node.items() {
            try item.requireMapping()
            let name = try item["name"].requiredString()
            guard !providers.contains(where: { $0.name == name }) else {
                throw ConfigError(item.path + ".name", "duplicate provider name \(name)")
            }
            let bucket = try item["bucket"].requiredString()
            if let problem = Engine.bucketNameProblem(bucket) {
                throw ConfigError(item.path + ".bucket", "\"\(bucket)\" is not a valid bucket name: \(problem)")
            }
            var forwardTo: [String] = []
            for tier in try item["forwardTo"].items() {
                let tierName = try tier.requiredString()
                guard tiers.contains(where: { $0.name == tierName }) else {
                    throw ConfigError(
                        tier.path, "no tier named \(tierName) (tiers: \(tiers.map(\.name).joined(separator: ", ")))")
                }
                forwardTo.append(tierName)
            }
            providers.append(VaultProvider(name: name, bucket: bucket, forwardTo: forwardTo))
        }
        return providers
    }

    /// Replaces each account's `vault.providers` names (read by parseAccount as placeholders)
    /// with the providers they name, and fills in `vault.bucket` from the default provider.
    static func resolveAccountProviders(_ accounts: inout [Account], providers: [VaultProvider]) throws {
        for i in accounts.indices {
            guard var vault = accounts[i].vault, let names = vault.providers, !names.isEmpty else { continue }
            let path = "accounts[\(i)].vault"
            vault.providers = try names.enumerated().map { j, placeholder in
                guard let provider = providers.first(where: { $0.name == placeholder.name }) else {
                    throw ConfigError(
                        "\(path).providers[\(j)]",
                        "no provider named \(placeholder.name) (providers: \(providers.map(\.name).joined(separator: ", ")))")
                }
                return provider
            }
            let main = vault.providers![0]
            if vault.bucket.isEmpty {
                vault.bucket = main.bucket
            } else if vault.bucket != main.bucket {
                throw ConfigError(
                    "\(path).bucket",
                    "\(vault.bucket) differs from the bucket \(main.bucket) of the default provider \(main.name); leave it out")
            }
            accounts[i].vault = vault
        }
    }
}
