import DepotConfig

/// Authorization on the Vault API: the same question the S3 door asks (DepotConfig's
/// `Account.allows`, DESIGN "Accounts and access"), on the final bucket and key — after a fixed
/// directory has forced the key and the provider has chosen the bucket. The Vault settings
/// (`vault.directory`, providers) only say where an agent's recording goes; what the account may
/// do there is its `allow` rules, whichever door it uses.
extension VaultService {
    /// Throws Vault's JSON 403 unless `account` may do `action` on `key` in `bucket`.
    func authorize(_ account: Account, _ action: Action, bucket: String, key: String) throws {
        guard account.allows(action, bucket: bucket, key: key) else {
            throw VaultError(
                .forbidden, "the account \(account.name) may not \(action.rawValue) \(key) in \(bucket)", code: "AccessDenied")
        }
    }
}
