import ArgumentParser
import DepotConfig
import DepotEngine
import DepotHashing

/// `depot account add|list|remove`: accounts kept in the index, beside the configuration
/// file's. They open the data directory, so run them while the server is stopped; the server
/// loads them at start.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage accounts stored in the index (stop the server first).",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Add or replace an account; prints the secret once.")
        @OptionGroup var store: StoreOptions
        @Option(help: "The account's name.") var name: String
        @Option(help: "Access key (generated when omitted).") var accessKey: String?
        @Option(help: "Secret key (generated when omitted).") var secretKey: String?
        @Option(help: "Bucket the account may use (* for all).") var bucket: String = "*"
        @Option(help: "Key prefix within the bucket.") var prefix: String = ""
        @Option(help: "Comma-separated actions: read,write,delete,list,admin.") var actions: String = "read,write,list"
        @Option(help: "Vault API: the directory (* lets the agent choose).") var vaultDirectory: String?
        @Option(help: "Vault API: the bucket its uploads go to.") var vaultBucket: String?

        func run() async throws {
            var granted: Set<Action> = []
            for text in actions.split(separator: ",") {
                guard let action = Action(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown action \(text) (read, write, delete, list, admin)")
                }
                granted.insert(action)
            }
            let key = accessKey ?? "DPT" + Hex.encode(secureRandomBytes(8)).uppercased()
            let secret = secretKey ?? Base64.encode(secureRandomBytes(30)).replacingOccurrences(of: "/", with: "_")
            guard secret.utf8.count >= 8 else { throw ValidationError("--secret-key must be at least 8 characters") }
            var vault: VaultSettings?
            if let vaultBucket { vault = VaultSettings(directory: vaultDirectory ?? "*", bucket: vaultBucket) }
            let account = Account(
                name: name, accessKey: key, secretKey: secret, grants: [Grant(bucket: bucket, prefix: prefix, actions: granted)],
                vault: vault)
            let engine = try Engine(configuration: try store.engineConfiguration())
            defer { engine.shutdown() }
            try await StoredAccounts.save(account, in: engine)
            print("account \(name) added\n  access key: \(key)\n  secret key: \(secret)   (shown once)")
        }
    }

    struct List: ParsableCommand {
        @OptionGroup var store: StoreOptions
        func run() throws {
            let configured = try store.load().accounts
            let engine = try Engine(configuration: try store.engineConfiguration())
            defer { engine.shutdown() }
            print(pad("NAME", 18) + pad("ACCESS KEY", 24) + pad("SOURCE", 8) + "GRANTS")
            func line(_ account: Account, _ source: String) -> String {
                let grants = account.grants.map {
                    "\($0.bucket)/\($0.prefix) \($0.actions.map(\.rawValue).sorted().joined(separator: ","))"
                }
                return pad(account.name, 18) + pad(account.accessKey, 24) + pad(source, 8) + grants.joined(separator: "; ")
                    + (account.vault.map { "  vault: \($0.directory) -> \($0.bucket)" } ?? "")
            }
            for account in configured { print(line(account, "config")) }
            for account in try StoredAccounts.load(engine) { print(line(account, "index")) }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var store: StoreOptions
        @Argument(help: "The access key.") var accessKey: String
        func run() async throws {
            let engine = try Engine(configuration: try store.engineConfiguration())
            defer { engine.shutdown() }
            guard try await engine.removeStoredAccount(accessKey: accessKey) else {
                throw ValidationError(
                    "no stored account has access key \(accessKey) (accounts of the configuration file are edited there)")
            }
            print("account \(accessKey) removed")
        }
    }
}
