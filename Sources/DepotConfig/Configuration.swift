import DepotEngine
import DepotStorage
import Yams

/// What an account may do.
public enum Action: String, Sendable, CaseIterable, Codable {
    case read, write, delete, list, admin
}

/// One grant: actions on a bucket ("*" for all) and a key prefix.
public struct Grant: Sendable, Equatable, Codable {
    public var bucket: String
    public var prefix: String
    public var actions: Set<Action>

    public init(bucket: String, prefix: String = "", actions: Set<Action>) {
        self.bucket = bucket
        self.prefix = prefix
        self.actions = actions
    }

    public func allows(_ action: Action, bucket: String, key: String?) -> Bool {
        guard actions.contains(action), self.bucket == "*" || self.bucket == bucket else { return false }
        guard let key else { return prefix.isEmpty || action == .list }
        return key.hasPrefix(prefix)
    }

    /// Why this grant cannot be given, if it cannot. `admin` opens the admin API, which is
    /// server-wide (tiers, policies, accounts: an admin can create an account with any grant), so
    /// a grant scoped to a bucket or a prefix would promise a limit the API cannot keep.
    public var problem: String? {
        guard actions.contains(.admin), bucket != "*" || !prefix.isEmpty else { return nil }
        return "the admin action is server-wide (tiers, policies, accounts): grant it with bucket \"*\" and no prefix"
    }
}

/// Vault-API settings of an account (issue: Kerberos Vault upload API).
public struct VaultSettings: Sendable, Equatable, Codable {
    public init(
        directory: String, bucket: String, retentionDays: Int = 0, enabled: Bool = true, providers: [VaultProvider]? = nil,
        retention: LockRetention? = nil
    ) {
        self.retention = retention
        self.directory = directory
        self.bucket = bucket
        self.retentionDays = retentionDays
        self.enabled = enabled
        self.providers = providers
    }

    public var directory: String
    public var bucket: String
    public var retentionDays: Int
    public var enabled: Bool
    /// The providers the account may upload through, its default first (VaultProvider); nil
    /// for an account that names none.
    public var providers: [VaultProvider]?
    /// The Object Lock retention every recording this account uploads through the Vault API gets
    /// (LockRetention.swift); nil for none. Checked at upload time: its bucket is made at runtime,
    /// so a bucket without Object Lock is refused then (VaultUpload.swift), not at load.
    public var retention: LockRetention?
}

public struct Account: Sendable, Equatable, Codable {
    public var name: String
    public var accessKey: String
    public var secretKey: String
    public var grants: [Grant]
    public var vault: VaultSettings?
    public var enabled: Bool
    /// The most this account may own (AccountQuota.swift); nil is no limit.
    public var quota: StorageQuota?

    public init(
        name: String, accessKey: String, secretKey: String, grants: [Grant], vault: VaultSettings? = nil, enabled: Bool = true,
        quota: StorageQuota? = nil
    ) {
        self.name = name
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.grants = grants
        self.vault = vault
        self.enabled = enabled
        self.quota = quota
    }

    public func allows(_ action: Action, bucket: String, key: String? = nil) -> Bool {
        enabled && grants.contains { $0.allows(action, bucket: bucket, key: key) }
    }
}

public struct TLSSettings: Sendable, Equatable {
    public var certificate: String
    public var key: String
}

public struct ServerSettings: Sendable, Equatable {
    public var address: String = "127.0.0.1:9000"
    public var region: String = "us-east-1"
    public var domain: String = ""
    public var tls: TLSSettings?
    public var maxObjectSize: Int = 5 << 40
    public var logFormat: String = "text"
    /// The lowest level written: trace, debug, info, notice, warning, error or critical
    /// (`DEPOT_LOG_LEVEL` overrides it).
    public var logLevel: String = "info"
    /// Which requests get an access line: every one, failures only (status 400 and up), or none.
    public var accessLog: AccessLogMode = .all
    /// Client connections open at once; more are accepted and closed at once. Nil: 4096, or
    /// less when the open-file limit is lower (the server lowers it to what the limit allows).
    public var maxConnections: Int?
    /// Bytes per second a request or response body must move at, averaged over
    /// `transferRateWindow` seconds of the server waiting on the client; slower ones are cut
    /// (uploads with S3's RequestTimeout). 0 turns the check off.
    public var minTransferRate: Int = 1024
    public var transferRateWindow: Int = 30
    /// Seconds a stopping node keeps serving with its readiness probes failing, so a load
    /// balancer takes it out of rotation first (spent only when readiness was probed lately).
    public var drainDelay: Int = 5
    /// Seconds a stop waits, once the listener is closed, for requests in flight to finish
    /// (and the background services to stop) before cancelling what is left.
    public var drainTimeout: Int = 10
    /// Load balancers and reverse proxies whose `X-Forwarded-For` names the client
    /// (ForwardedClient); empty: the client is always the connection's peer.
    public var trustedProxies: [IPRange] = []
}

/// `server.accessLog`: which requests the server writes an access line for.
public enum AccessLogMode: String, Sendable, Equatable {
    case all, errors, off
}

extension ServerSettings {
    /// The names `server.logLevel` and `DEPOT_LOG_LEVEL` take (swift-log's levels).
    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

public struct StorageSettings: Sendable, Equatable {
    public var data: String = "./data"
    public var chunking: ChunkerParameters = .standard
    public var segmentSize: Int = 1 << 30
    /// Whether segment bytes stay in the OS page cache once they are durable. Off by default:
    /// recordings are written once and read rarely, and keeping them cached crowds out the index
    /// and makes every new write pay for fresh cache pages (see Benchmarks/RESULTS.md).
    public var cacheWrittenData: Bool = false
    public var gcInterval: Int = 3600
    /// Multipart and tus uploads not completed within this many seconds are aborted.
    public var uploadExpiry: Int = 7 * 86400
    /// How often retention (policy `expire`) is evaluated.
    public var lifecycleInterval: Int = 60
    /// Free space on the data device that only deletes and compaction may use (`storage.reserve`).
    public var reserve: SpaceReserve = .automatic
}

/// The whole configuration file (DESIGN "Configuration"). Sections of later parts (tiers,
/// policies, events) are parsed by their own modules; here they are only checked to be lists.
public struct DepotConfiguration: Sendable {
    public var server = ServerSettings()
    public var storage = StorageSettings()
    public var buckets: [String] = []
    public var accounts: [Account] = []
    public var tiers: [TierSettings] = []
    public var policies: [PolicySettings] = []
    public var events = EventSettings()
    /// Kerberos Vault storage providers (VaultProviders.swift).
    public var providers: [VaultProvider] = []
    /// Master keys of server-side encryption (EncryptionSettings.swift).
    public var encryption = EncryptionSettings()
    /// Cluster mode (Cluster.swift); nil: embedded mode.
    public var cluster: ClusterSettings?

    public init() {}

    /// The embedded default: listen on 127.0.0.1:9000, data in ./data, no tiers.
    public static let defaultYAML = """
        # Depot's embedded default configuration: the one `depot serve` uses without --config.
        # Every field is optional; see Config/examples/ for the full set.
        server:
          address: 127.0.0.1:9000
          region: us-east-1
        storage:
          data: ./data
          chunking: { min: 256KiB, average: 1MiB, max: 4MiB }
          segmentSize: 1GiB
        buckets: []
        accounts: []
        tiers: []
        policies: []

        """

    public static func parse(yaml: String) throws -> DepotConfiguration {
        let root: Yams.Node?
        do {
            root = try Yams.compose(yaml: yaml)
        } catch {
            throw ConfigError("", "not valid YAML: \(error)")
        }
        let top = ConfigNode(root, path: "")
        try top.requireMapping()
        var config = DepotConfiguration()

        let server = top["server"]
        try server.requireMapping()
        config.server.address = try server["address"].string(default: config.server.address)
        guard HostPort.parse(config.server.address) != nil else {
            throw ConfigError("server.address", "must be HOST:PORT, got \"\(config.server.address)\"")
        }
        config.server.region = try server["region"].string(default: config.server.region)
        config.server.domain = try server["domain"].string(default: "")
        config.server.maxObjectSize = try server["maxObjectSize"].byteSize(default: config.server.maxObjectSize)
        config.server.logFormat = try server["logFormat"].string(default: "text")
        if server["maxConnections"].isPresent {
            let maxConnections = try server["maxConnections"].int(default: 0)
            guard maxConnections >= 1 else {
                throw ConfigError("server.maxConnections", "must be at least 1, got \(maxConnections)")
            }
            config.server.maxConnections = maxConnections
        }
        config.server.minTransferRate = try server["minTransferRate"].byteSize(default: config.server.minTransferRate)
        config.server.transferRateWindow = try server["transferRateWindow"].duration(default: config.server.transferRateWindow)
        guard config.server.transferRateWindow >= 1 else {
            throw ConfigError("server.transferRateWindow", "must be at least 1s")
        }
        config.server.drainDelay = try server["drainDelay"].duration(default: config.server.drainDelay)
        config.server.drainTimeout = try server["drainTimeout"].duration(default: config.server.drainTimeout)
        guard config.server.drainTimeout >= 1 else {
            throw ConfigError("server.drainTimeout", "must be at least 1s")
        }
        if server["trustedProxies"].isPresent {
            config.server.trustedProxies = try server["trustedProxies"].items().map { item in
                let text = try item.requiredString()
                guard let range = IPRange(text) else {
                    throw ConfigError(
                        item.path, "must be an IP address or a CIDR range such as 10.0.0.0/24, got \"\(text)\"")
                }
                return range
            }
        }
        guard ["text", "json"].contains(config.server.logFormat) else {
            throw ConfigError("server.logFormat", "must be text or json")
        }
        config.server.logLevel = try server["logLevel"].string(default: config.server.logLevel)
        guard ServerSettings.logLevels.contains(config.server.logLevel) else {
            throw ConfigError(
                "server.logLevel", "must be one of \(ServerSettings.logLevels.joined(separator: ", ")), got \"\(config.server.logLevel)\"")
        }
        let accessLog = try server["accessLog"].string(default: config.server.accessLog.rawValue)
        guard let accessLogMode = AccessLogMode(rawValue: accessLog) else {
            throw ConfigError("server.accessLog", "must be all, errors or off, got \"\(accessLog)\"")
        }
        config.server.accessLog = accessLogMode
        let tls = server["tls"]
        if tls.isPresent {
            config.server.tls = TLSSettings(
                certificate: try tls["certificate"].requiredString(), key: try tls["key"].requiredString())
        }

        let storage = top["storage"]
        try storage.requireMapping()
        config.storage.data = try storage["data"].string(default: config.storage.data)
        let chunking = storage["chunking"]
        let standard = ChunkerParameters.standard
        let params = ChunkerParameters(
            minimum: try chunking["min"].byteSize(default: standard.minimum),
            average: try chunking["average"].byteSize(default: standard.average),
            maximum: try chunking["max"].byteSize(default: standard.maximum))
        do {
            try params.validate()
        } catch let invalid as ChunkerParameters.Invalid {
            let key = ["minimum": "min", "maximum": "max"][invalid.field] ?? "average"
            throw ConfigError("storage.chunking.\(key)", invalid.reason)
        }
        config.storage.chunking = params
        config.storage.segmentSize = try storage["segmentSize"].byteSize(default: config.storage.segmentSize)
        guard config.storage.segmentSize >= 1 << 20 else {
            throw ConfigError("storage.segmentSize", "must be at least 1MiB")
        }
        config.storage.cacheWrittenData = try storage["cacheWrittenData"].bool(default: config.storage.cacheWrittenData)
        config.storage.reserve = try spaceReserve(storage["reserve"])
        config.storage.gcInterval = try storage["gcIntervalSeconds"].int(default: config.storage.gcInterval)
        config.storage.uploadExpiry = try storage["uploadExpiry"].duration(default: config.storage.uploadExpiry)
        config.storage.lifecycleInterval = try storage["lifecycleInterval"].duration(default: config.storage.lifecycleInterval)

        for (i, item) in try top["buckets"].items().enumerated() {
            let name = try item.requiredString()
            if let problem = Engine.bucketNameProblem(name) {
                throw ConfigError("buckets[\(i)]", "\"\(name)\" is not a valid bucket name: \(problem)")
            }
            config.buckets.append(name)
        }

        var keys: Set<String> = []
        for item in try top["accounts"].items() {
            let account = try parseAccount(item)
            guard keys.insert(account.accessKey).inserted else {
                throw ConfigError(item.path + ".accessKey", "duplicate access key \(account.accessKey)")
            }
            config.accounts.append(account)
        }
        var tierNames: Set<String> = []
        for item in try top["tiers"].items() {
            let tier = try parseTier(item)
            guard tierNames.insert(tier.name).inserted else {
                throw ConfigError(item.path + ".name", "duplicate tier name \(tier.name)")
            }
            if let storageClass = tier.storageClass, let other = config.tiers.first(where: { $0.storageClass == storageClass }) {
                throw ConfigError(item.path + ".storageClass", "tier \(other.name) declares storage class \(storageClass) too")
            }
            config.tiers.append(tier)
        }
        for item in try top["policies"].items() {
            config.policies.append(try parsePolicy(item, tiers: config.tiers))
        }
        config.events = try parseEvents(top["events"])
        config.encryption = try parseEncryption(top["encryption"])
        config.providers = try parseProviders(top["providers"], tiers: config.tiers)
        try resolveAccountProviders(&config.accounts, providers: config.providers)
        config.cluster = try parseCluster(top["cluster"])
        try top.finish()
        return config
    }

    static func parseAccount(_ node: ConfigNode) throws -> Account {
        try node.requireMapping()
        let name = try node["name"].requiredString()
        let accessKey = try node["accessKey"].requiredString()
        if let problem = CredentialRules.accessKeyProblem(accessKey) { throw ConfigError(node.path + ".accessKey", problem) }
        let secretKey = try node["secretKey"].requiredString()
        if let problem = CredentialRules.secretKeyProblem(secretKey) { throw ConfigError(node.path + ".secretKey", problem) }
        var grants: [Grant] = []
        for g in try node["allow"].items() {
            try g.requireMapping()
            var actions: Set<Action> = []
            for a in try g["actions"].items() {
                let text = try a.requiredString()
                guard let action = Action(rawValue: text) else {
                    throw ConfigError(a.path, "unknown action \"\(text)\" (read, write, delete, list, admin)")
                }
                actions.insert(action)
            }
            let grant = Grant(
                bucket: try g["bucket"].string(default: "*"), prefix: try g["prefix"].string(default: ""), actions: actions)
            if let problem = grant.problem { throw ConfigError(g.path + ".actions", problem) }
            grants.append(grant)
        }
        var vault: VaultSettings?
        let v = node["vault"]
        if v.isPresent {
            try v.requireMapping()
            // Provider names are resolved once `providers:` is read (resolveAccountProviders);
            // with providers, the bucket comes from the default one.
            let providers = try v["providers"].items().map { VaultProvider(name: try $0.requiredString(), bucket: "") }
            vault = VaultSettings(
                directory: try v["directory"].string(default: "*"),
                bucket: providers.isEmpty ? try v["bucket"].requiredString() : try v["bucket"].string(default: ""),
                retentionDays: try v["retentionDays"].int(default: 0), enabled: try v["enabled"].bool(default: true),
                providers: providers.isEmpty ? nil : providers, retention: try LockRetention.parse(v["retention"]))
        }
        return Account(
            name: name, accessKey: accessKey, secretKey: secretKey, grants: grants, vault: vault,
            enabled: try node["enabled"].bool(default: true), quota: try accountQuota(node["quota"]))
    }
}

extension ConfigNode {
    /// For sections another part validates: accept every key here.
    func markAllUsed() { acceptsAnyField = true }
}

/// `HOST:PORT`, with IPv6 hosts in brackets.
public struct HostPort: Sendable, Equatable {
    public var host: String
    public var port: Int

    public static func parse(_ text: String) -> HostPort? {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]),
            (0...65535).contains(port)
        else { return nil }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        return HostPort(host: host, port: port)
    }
}
