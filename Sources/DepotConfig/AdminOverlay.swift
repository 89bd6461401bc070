import Foundation
import Yams

/// Tiers and policies created or changed through the admin API, laid over the configuration
/// file's. Each is kept as the JSON document the API received and parsed by the same code as
/// the file, so the API and the file accept exactly the same settings and name fields the same
/// way. An item of the overlay replaces the file's item of the same name.
public struct AdminOverlay: Sendable {
    /// Tier, policy and event sink documents by name.
    public var tiers: [String: String] = [:]
    public var policies: [String: String] = [:]
    public var sinks: [String: String] = [:]

    public init(tiers: [String: String] = [:], policies: [String: String] = [:], sinks: [String: String] = [:]) {
        self.tiers = tiers
        self.policies = policies
        self.sinks = sinks
    }
}

/// Where an item of the configuration in effect comes from.
public enum SettingOrigin: String, Sendable {
    case file = "config"
    case api
    /// Defined in the file and replaced through the API.
    case apiOverridingFile = "api (overrides config)"
    /// An enabled rule of a bucket's S3 lifecycle configuration (changed only through S3).
    case lifecycle = "s3-lifecycle"
    /// An enabled rule of a bucket's S3 replication configuration (changed only through S3).
    case replication = "s3-replication"
}

extension DepotConfiguration {
    /// Parses a tier as sent to the admin API; errors name the field (`endpoint`, `window`…).
    public static func parseTierDocument(_ json: String) throws -> TierSettings {
        let node = try documentNode(json)
        let tier = try parseTier(node)
        try node.finish()
        return tier
    }

    /// Parses a policy as sent to the admin API, against the tiers it may replicate to.
    public static func parsePolicyDocument(_ json: String, tiers: [TierSettings]) throws -> PolicySettings {
        let node = try documentNode(json)
        let policy = try parsePolicy(node, tiers: tiers)
        try node.finish()
        return policy
    }

    /// Parses an event sink as sent to the admin API (the file's `events.sinks[]` fields).
    public static func parseSinkDocument(_ json: String) throws -> SinkSettings {
        let node = try documentNode(json)
        let sink = try parseSink(node)
        try node.finish()
        return sink
    }

    static func documentNode(_ json: String) throws -> ConfigNode {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: json)
        } catch {
            throw ConfigError("", "not valid JSON: \(error)")
        }
        let node = ConfigNode(root, path: "", substitutesEnvironment: false)
        guard node.isPresent, root?.mapping != nil else { throw ConfigError("", "expected a JSON object") }
        return node
    }

    /// The file's configuration with the overlay's items put in place, and the origin of every
    /// tier and policy (`tier:NAME`, `policy:NAME`). Items that no longer make sense (a policy
    /// whose tier the file dropped) are left out and described in `problems`, rather than
    /// keeping the server from starting.
    public func applying(_ overlay: AdminOverlay) -> (
        configuration: DepotConfiguration, origins: [String: SettingOrigin], problems: [String]
    ) {
        var merged = self
        var origins: [String: SettingOrigin] = [:]
        var problems: [String] = []
        for tier in tiers { origins["tier:" + tier.name] = .file }
        for policy in policies { origins["policy:" + policy.name] = .file }
        for sink in events.sinks { origins["sink:" + sink.name] = .file }
        for (name, document) in overlay.tiers.sorted(by: { $0.key < $1.key }) {
            do {
                var tier = try Self.parseTierDocument(document)
                tier.name = name
                // Two tiers cannot be one class: the file's (or the earlier) tier keeps it.
                if let storageClass = tier.storageClass,
                    let other = merged.tiers.first(where: { $0.name != name && $0.storageClass == storageClass })
                {
                    problems.append(
                        "tier \(name) from the admin API: storage class \(storageClass) is declared by tier \(other.name) too; \(name) keeps no class"
                    )
                    tier.storageClass = nil
                }
                if let i = merged.tiers.firstIndex(where: { $0.name == name }) {
                    merged.tiers[i] = tier
                    origins["tier:" + name] = .apiOverridingFile
                } else {
                    merged.tiers.append(tier)
                    origins["tier:" + name] = .api
                }
            } catch {
                problems.append("tier \(name) from the admin API is ignored: \(error)")
            }
        }
        for (name, document) in overlay.policies.sorted(by: { $0.key < $1.key }) {
            do {
                var policy = try Self.parsePolicyDocument(document, tiers: merged.tiers)
                policy.name = name
                if let i = merged.policies.firstIndex(where: { $0.name == name }) {
                    merged.policies[i] = policy
                    origins["policy:" + name] = .apiOverridingFile
                } else {
                    merged.policies.append(policy)
                    origins["policy:" + name] = .api
                }
            } catch {
                problems.append("policy \(name) from the admin API is ignored: \(error)")
            }
        }
        for (name, document) in overlay.sinks.sorted(by: { $0.key < $1.key }) {
            do {
                var sink = try Self.parseSinkDocument(document)
                sink.name = name
                if let i = merged.events.sinks.firstIndex(where: { $0.name == name }) {
                    merged.events.sinks[i] = sink
                    origins["sink:" + name] = .apiOverridingFile
                } else {
                    merged.events.sinks.append(sink)
                    origins["sink:" + name] = .api
                }
            } catch {
                problems.append("event sink \(name) from the admin API is ignored: \(error)")
            }
        }
        return (merged, origins, problems)
    }
}

extension DepotConfiguration {
    /// Parses an account as sent to the admin API (the file's `accounts[]` fields).
    public static func parseAccountDocument(_ json: String) throws -> Account {
        let node = try documentNode(json)
        let account = try parseAccount(node)
        try node.finish()
        // Provider names resolve against the file's `providers:`, which a document cannot see.
        if account.vault?.providers != nil {
            throw ConfigError("vault.providers", "providers are granted in the configuration file only")
        }
        return account
    }
}
