import ArgumentParser
import DepotConfig
import DepotEngine
import DepotHashing
import DepotServer
import Logging

/// `depot account add|list|update|remove`: accounts kept in the index, beside the configuration
/// file's. With `--data` they open the data directory directly, for setting up a server that is
/// stopped; otherwise they go through the running server's admin API (found as every admin
/// command finds it: `--endpoint`, DEPOT_ENDPOINT, or `server.address` of `--config`; admin keys
/// from DEPOT_ACCESS_KEY/DEPOT_SECRET_KEY or the root credentials), and changes apply at once.
struct AccountCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "account", abstract: "Manage accounts: through the admin API, or offline with --data.",
        subcommands: [Add.self, List.self, Update.self, Remove.self])

    /// The admin API connection of the account commands. Their `--access-key`/`--secret-key`
    /// name the account being made, so the admin's keys come from the environment only; their
    /// `--config` (StoreOptions) locates the server too.
    struct Connection: ParsableArguments {
        @Option(help: "The server's URL (admin API mode; default: DEPOT_ENDPOINT, else server.address of --config).")
        var endpoint: String?
        @Option(help: "The server's region (default: DEPOT_REGION, else asked of the server).") var region: String?
        @Flag(help: "Print JSON instead of a table.") var json = false

        func admin(_ store: StoreOptions) -> AdminClient { admin(config: store.config) }

        func admin(config: String?) -> AdminClient {
            AdminClient(endpoint: endpoint, config: config, region: region, json: json)
        }
    }

    static func grants(bucket: String, prefix: String, actions: String) throws -> [[String: Any]] {
        for text in actions.split(separator: ",") where Action(rawValue: text.trimmingCharacters(in: .whitespaces)) == nil {
            throw ValidationError("unknown action \(text) (read, write, delete, list, admin)")
        }
        return [["bucket": bucket, "prefix": prefix, "actions": actions.split(separator: ",").map(String.init)]]
    }

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
        @OptionGroup var connection: Connection

        func run() async throws {
            if store.data == nil {
                var document: [String: Any] = [
                    "name": name, "allow": try AccountCommand.grants(bucket: bucket, prefix: prefix, actions: actions),
                ]
                if let accessKey { document["accessKey"] = accessKey }
                if let secretKey { document["secretKey"] = secretKey }
                if let vaultBucket { document["vault"] = ["directory": vaultDirectory ?? "*", "bucket": vaultBucket] }
                let result = try await connection.admin(store).call(.POST, "/admin/v1/accounts", body: document)
                connection.admin(store).emit(result) {
                    "account \(name) added\n  access key: \(result["accessKey"] ?? "")\n  secret key: \(result["secretKey"] ?? "")   (shown once)"
                }
                return
            }
            var granted: Set<Action> = []
            for text in actions.split(separator: ",") {
                guard let action = Action(rawValue: text.trimmingCharacters(in: .whitespaces)) else {
                    throw ValidationError("unknown action \(text) (read, write, delete, list, admin)")
                }
                granted.insert(action)
            }
            let key = accessKey ?? "DPT" + Hex.encode(secureRandomBytes(8)).uppercased()
            let secret = secretKey ?? Base64.encode(secureRandomBytes(30)).replacingOccurrences(of: "/", with: "_")
            if let problem = CredentialRules.accessKeyProblem(key) { throw ValidationError("--access-key \(problem)") }
            if let problem = CredentialRules.secretKeyProblem(secret) { throw ValidationError("--secret-key \(problem)") }
            var vault: VaultSettings?
            if let vaultBucket { vault = VaultSettings(directory: vaultDirectory ?? "*", bucket: vaultBucket) }
            let grant = Grant(bucket: bucket, prefix: prefix, actions: granted)
            if let problem = grant.problem { throw ValidationError("--actions: \(problem)") }
            let account = Account(name: name, accessKey: key, secretKey: secret, grants: [grant], vault: vault)
            let engine = try await store.openAccountsEngine()
            defer { engine.shutdown() }
            try await StoredAccounts.save(account, in: engine)
            print("account \(name) added\n  access key: \(key)\n  secret key: \(secret)   (shown once)")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List accounts, a page at a time, optionally filtered (filters and pages: admin API mode).")
        @OptionGroup var store: StoreOptions
        @Option(help: "Only accounts whose name starts with this.") var prefix: String?
        @Option(help: "Only enabled (true) or disabled (false) accounts.") var enabled: Bool?
        @Option(help: "Only accounts from this source (config, api).") var source: String?
        @OptionGroup var page: PageOptions
        @OptionGroup var connection: Connection
        func run() async throws {
            if store.data == nil {
                let result = try await connection.admin(store).call(
                    .GET, "/admin/v1/accounts",
                    query: page.query(["prefix": prefix, "enabled": enabled.map(String.init), "source": source]))
                connection.admin(store).emit(result) {
                    let rows = (result["accounts"] as? [[String: Any]] ?? []).map { account -> [String] in
                        let grants = (account["allow"] as? [[String: Any]] ?? []).map {
                            "\($0["bucket"] ?? "")/\($0["prefix"] ?? "") \(($0["actions"] as? [String] ?? []).joined(separator: ","))"
                        }
                        return [
                            show(account["name"]), show(account["accessKey"]), show(account["source"]),
                            show(account["enabled"]), grants.joined(separator: "; "),
                        ]
                    }
                    return table(["NAME", "ACCESS KEY", "SOURCE", "ENABLED", "GRANTS"], rows) + PageOptions.footer(result)
                }
                return
            }
            let configured = try store.load().accounts
            let engine = try await store.openAccountsEngine()
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

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an account's permissions, or disable or enable it (admin API).")
        @Argument(help: "The access key.") var accessKey: String
        @Option(help: "Bucket the account may use (* for all); with --actions.") var bucket: String = "*"
        @Option(help: "Key prefix within the bucket; with --actions.") var prefix: String = ""
        @Option(help: "Comma-separated actions: read,write,delete,list,admin (replaces the grants).") var actions: String?
        @Flag(help: "Let the account sign requests again.") var enable = false
        @Flag(help: "Refuse the account's requests (it stays, with its objects).") var disable = false
        @OptionGroup var connection: Connection
        @Option(help: "A configuration file whose server.address locates the server.") var config: String?

        func validate() throws {
            if enable && disable { throw ValidationError("give --enable or --disable, not both") }
        }

        func run() async throws {
            var document: [String: Any] = [:]
            if let actions { document["allow"] = try AccountCommand.grants(bucket: bucket, prefix: prefix, actions: actions) }
            if enable || disable { document["enabled"] = enable }
            guard !document.isEmpty else { throw ValidationError("give --actions, --enable or --disable") }
            let admin = connection.admin(config: config)
            let result = try await admin.call(.PATCH, "/admin/v1/accounts/\(accessKey)", body: document)
            admin.emit(result) { "account \(accessKey) updated (enabled: \(show(result["enabled"])))" }
        }
    }

    struct Remove: AsyncParsableCommand {
        @OptionGroup var store: StoreOptions
        @Argument(help: "The access key.") var accessKey: String
        @OptionGroup var connection: Connection
        func run() async throws {
            if store.data == nil {
                let result = try await connection.admin(store).call(.DELETE, "/admin/v1/accounts/\(accessKey)")
                connection.admin(store).emit(result) { "account \(accessKey) removed" }
                return
            }
            let engine = try await store.openAccountsEngine()
            defer { engine.shutdown() }
            guard try await engine.removeStoredAccount(accessKey: accessKey) else {
                throw ValidationError(
                    "no stored account has access key \(accessKey) (accounts of the configuration file are edited there)")
            }
            print("account \(accessKey) removed")
        }
    }
}

extension StoreOptions {
    /// The engine the offline (`--data`) account commands work on: the data directory's index,
    /// or in cluster mode the shared one the nodes read accounts from (OfflineEngine).
    func openAccountsEngine() async throws -> Engine {
        try await OfflineEngine.open(try load(), engineConfiguration: try engineConfiguration(), logger: Logger(label: "depot"))
    }
}
