/// The `vault` tier's fields (a remote Kerberos Vault, or another Depot's Vault API, reached
/// through its tus upload endpoint; DESIGN "Vault tiers").
extension DepotConfiguration {
    /// Chunks below 1 MiB would spend the remote's per-upload PATCH budget (Depot allows 10,000
    /// PATCHes per upload, and Vault recordings go up to 5 GiB); above 1 GiB a dropped connection
    /// costs too much to resend.
    static let vaultChunkSizes = (1 << 20)...(1 << 30)

    static func parseVaultTier(_ node: ConfigNode, into tier: inout TierSettings) throws {
        tier.endpoint = try node["endpoint"].requiredString()
        guard tier.endpoint.hasPrefix("http://") || tier.endpoint.hasPrefix("https://") else {
            throw ConfigError(
                node.path + ".endpoint",
                "must start with http:// or https:// (the Vault API base, e.g. https://vault.example/api)")
        }
        while tier.endpoint.hasSuffix("/") { tier.endpoint.removeLast() }
        tier.accessKey = try node["accessKey"].requiredString()
        tier.secretKey = try node["secretKey"].requiredString()
        tier.provider = try node["provider"].string(default: "")
        // Each is sent as an X-Kerberos-Storage-* header on every request.
        for (field, value) in [("accessKey", tier.accessKey), ("secretKey", tier.secretKey), ("provider", tier.provider)]
        where value.utf8.contains(where: { $0 < 0x20 || $0 == 0x7F }) || (value.isEmpty && field != "provider") {
            throw ConfigError(node.path + "." + field, "must be non-empty and fit in an HTTP header (no control characters)")
        }
        tier.partSize = try node["chunkSize"].byteSize(default: 8 << 20)
        guard vaultChunkSizes.contains(tier.partSize) else {
            throw ConfigError(node.path + ".chunkSize", "must be from 1MiB to 1GiB")
        }
    }
}
