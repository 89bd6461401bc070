import DepotConfig
import DepotEngine

/// Providers on the Vault API: the name an agent sends in `X-Kerberos-Storage-Provider` (tus:
/// also `provider` in Upload-Metadata) picks where the recording goes (DepotConfig's
/// VaultProvider).
extension VaultService {
    /// The account as routed through the provider a request names: its `vault.bucket` becomes
    /// the provider's bucket (so uploads, reads and deletes all use it), and the provider comes
    /// back for its forwarding tiers.
    ///
    /// - An empty or absent name, or the name of the account's default provider (the first of
    ///   `vault.providers`), routes to the default: agents that send no provider, or the one
    ///   they were set up with, keep working unchanged.
    /// - Another provider of the account routes there.
    /// - Any other name is refused with 400 and Vault's `storage_provider_not_found`, before a
    ///   byte is stored. (400, not 404: a 404 on tus creation would make the agent fall back to
    ///   the legacy POST instead of reporting the misconfiguration.)
    /// - An account without `vault.providers` ignores the name and uses `vault.bucket`, as Depot
    ///   did before providers existed.
    func route(_ account: Account, provider requested: String?) throws -> (account: Account, provider: VaultProvider?) {
        guard let providers = account.vault?.providers, let main = providers.first else { return (account, nil) }
        var provider = main
        if let requested, !requested.isEmpty {
            guard let named = providers.first(where: { $0.name == requested }) else {
                throw VaultError(
                    .badRequest,
                    "storage_provider_not_found: \(requested) is not a provider of this account "
                        + "(\(providers.map(\.name).joined(separator: ", ")))")
            }
            provider = named
        }
        var routed = account
        routed.vault!.bucket = provider.bucket
        return (routed, provider)
    }

    /// The provider a finished tus upload was created for, by name, if the account still has it.
    func provider(named name: String?, of account: Account) -> VaultProvider? {
        guard let name else { return nil }
        return account.vault?.providers?.first { $0.name == name }
    }

    /// Queues the copies of a stored recording to the tiers its provider forwards to.
    func forwardThroughProvider(_ provider: VaultProvider?, bucket: String, key: String) async throws {
        guard let provider, !provider.forwardTo.isEmpty else { return }
        try await engine.requestReplication(bucket: bucket, key: key, tiers: provider.forwardTo)
    }
}
