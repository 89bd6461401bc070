import DepotEngine

extension DepotConfiguration {
    /// `accounts[].quota`: `{ bytes: 10GiB, objects: 100000 }`, either or both. Bytes are the
    /// logical sizes of the objects the account owns (the access key that stored them), before
    /// deduplication. Absent means no limit.
    static func accountQuota(_ node: ConfigNode) throws -> StorageQuota? {
        guard node.isPresent else { return nil }
        try node.requireMapping()
        var quota = StorageQuota()
        if node["bytes"].isPresent { quota.bytes = UInt64(try node["bytes"].byteSize(default: 0)) }
        if node["objects"].isPresent {
            let objects = try node["objects"].int(default: 0)
            guard objects >= 0 else { throw ConfigError(node.path + ".objects", "must not be negative") }
            quota.objects = UInt64(objects)
        }
        guard quota.bytes != nil || quota.objects != nil else {
            throw ConfigError(node.path, "names neither bytes nor objects")
        }
        return quota
    }
}

extension Account {
    /// The quotas of `accounts` by access key, as the engine enforces them.
    public static func quotas(of accounts: [Account]) -> [String: StorageQuota] {
        var out: [String: StorageQuota] = [:]
        for account in accounts { if let quota = account.quota { out[account.accessKey] = quota } }
        return out
    }
}
