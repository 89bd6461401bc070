import DepotEngine
import Glibc

/// Cluster mode (README "Cluster mode"): several `depot serve` nodes share one index in
/// PostgreSQL and one chunk store in an S3-compatible object store. No `cluster:` section means
/// embedded mode (LMDB + local segments), unchanged.
///
/// ```yaml
/// cluster:
///   index: postgres://depot:secret@db.example:5432/depot
///   node: gw-1                      # default: the host's name
///   chunks: { endpoint: http://127.0.0.1:9100, bucket: depot-chunks, region: us-east-1,
///             accessKey: AK, secretKey: SK, prefix: packs/ }
///   cache: { path: /var/cache/depot, size: 20GiB }
///   keyFile: /etc/depot/cluster.key   # the same file on every node (ClusterKey.swift)
/// ```
public struct ClusterSettings: Sendable, Equatable {
    /// Where the shared index lives (`cluster.index`).
    public var index: PostgresLocation
    /// This node's name in `depot_nodes` (`cluster.node`).
    public var node: String
    /// The shared chunk store (`cluster.chunks`); nil until the section is given.
    public var chunks: ClusterChunkStore?
    /// The local read cache of chunks (`cluster.cache`); nil until the section is given.
    public var cache: ClusterChunkCache?
    /// The key every node is given (`cluster.keyFile`, ClusterKey.swift), read when the
    /// configuration is; required with `chunks` (a shared index).
    public var key: ClusterKey?
    /// How long a node's claim on a tier task or an event outbox row holds without renewal
    /// (`cluster.leaseSeconds`): after a node dies, its claimed work waits this long before
    /// another node takes it over. A running claim is renewed every third of it.
    public var leaseSeconds: Int = ClusterSettings.defaultLeaseSeconds

    /// 30 s: ten times the heartbeat, so a busy database or a slow renewal never lets a live
    /// node's claim lapse, while a dead node's work waits half a minute.
    public static let defaultLeaseSeconds = 30
    /// Renewals come every third of the lease; under 2 s they would be most of the claims' traffic.
    public static let leaseSecondsRange = 2...3600

    public init(
        index: PostgresLocation, node: String, chunks: ClusterChunkStore? = nil, cache: ClusterChunkCache? = nil,
        key: ClusterKey? = nil
    ) {
        self.index = index
        self.node = node
        self.chunks = chunks
        self.cache = cache
        self.key = key
    }

    /// Node names: what a hostname may hold, so they read well in `depot cluster status`.
    public static func nodeNameProblem(_ name: String) -> String? {
        guard (1...63).contains(name.utf8.count) else { return "must be 1 to 63 characters" }
        let allowed = name.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "."
                || $0 == "_"
        }
        return allowed ? nil : "may hold only letters, digits, '-', '.' and '_'"
    }

    /// The host's name, the default node name; "depot" where the host has none usable.
    public static func hostName() -> String {
        var buffer = [CChar](repeating: 0, count: 256)
        guard gethostname(&buffer, buffer.count - 1) == 0 else { return "depot" }
        let name = String(cString: buffer)
        return nodeNameProblem(name) == nil ? name : "depot"
    }
}

/// A PostgreSQL server and database, from `postgres://USER:PASSWORD@HOST:PORT/DATABASE`.
public struct PostgresLocation: Sendable, Equatable, CustomStringConvertible {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String

    public init(host: String, port: Int = 5432, user: String, password: String? = nil, database: String) {
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.database = database
    }

    /// The URL without its password, for logs and `depot cluster status`.
    public var description: String { "postgres://\(user)@\(host.contains(":") ? "[\(host)]" : host):\(port)/\(database)" }

    /// Parses the URL; the error text says which part is wrong (the caller adds the field).
    /// User and password may be percent-encoded (a password holding `@` or `/`).
    public static func parse(_ text: String) throws(PostgresLocationError) -> PostgresLocation {
        var rest = Substring(text)
        guard let schemeEnd = rest.range(of: "://") else {
            throw PostgresLocationError(
                "must be a URL such as postgres://user:password@host:5432/database, got \"\(redacting(text))\"")
        }
        let scheme = rest[..<schemeEnd.lowerBound].lowercased()
        guard scheme == "postgres" || scheme == "postgresql" else {
            throw PostgresLocationError("must start with postgres:// or postgresql://, got \"\(scheme)://\"")
        }
        rest = rest[schemeEnd.upperBound...]
        guard !rest.contains("?") && !rest.contains("#") else {
            throw PostgresLocationError("takes no query parameters (connections are plain TCP to a loopback or private network)")
        }
        guard let slash = rest.firstIndex(of: "/") else {
            throw PostgresLocationError("names no database (postgres://user:password@host:5432/database)")
        }
        let authority = rest[..<slash]
        let database = try decode(rest[rest.index(after: slash)...], part: "database")
        guard !database.isEmpty, !database.contains("/") else {
            throw PostgresLocationError("names no database (postgres://user:password@host:5432/database)")
        }
        guard let at = authority.lastIndex(of: "@") else {
            throw PostgresLocationError("names no user (postgres://user:password@host:5432/database)")
        }
        let credentials = authority[..<at]
        let hostPort = authority[authority.index(after: at)...]
        let user: String
        var password: String? = nil
        if let colon = credentials.firstIndex(of: ":") {
            user = try decode(credentials[..<colon], part: "user")
            password = try decode(credentials[credentials.index(after: colon)...], part: "password")
        } else {
            user = try decode(credentials, part: "user")
        }
        guard !user.isEmpty else { throw PostgresLocationError("names no user (postgres://user:password@host:5432/database)") }
        let host: String
        var port = 5432
        if hostPort.hasPrefix("[") {
            guard let close = hostPort.firstIndex(of: "]") else { throw PostgresLocationError("has an unclosed [ in its host") }
            host = String(hostPort[hostPort.index(after: hostPort.startIndex)..<close])
            let after = hostPort[hostPort.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":"), let p = Int(after.dropFirst()) else {
                    throw PostgresLocationError("has a port that is not a number")
                }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = String(hostPort[..<colon])
            guard let p = Int(hostPort[hostPort.index(after: colon)...]) else {
                throw PostgresLocationError("has a port that is not a number")
            }
            port = p
        } else {
            host = String(hostPort)
        }
        guard !host.isEmpty else { throw PostgresLocationError("names no host") }
        guard (1...65535).contains(port) else { throw PostgresLocationError("has port \(port), outside 1-65535") }
        return PostgresLocation(host: host, port: port, user: user, password: password, database: database)
    }

    /// `%XX` sequences decoded; a malformed one is an error naming the part.
    static func decode(_ text: Substring, part: String) throws(PostgresLocationError) -> String {
        var bytes: [UInt8] = []
        var iterator = Array(text.utf8)[...]
        while let byte = iterator.popFirst() {
            guard byte == UInt8(ascii: "%") else {
                bytes.append(byte)
                continue
            }
            guard iterator.count >= 2, let value = UInt8(String(decoding: iterator.prefix(2), as: UTF8.self), radix: 16) else {
                throw PostgresLocationError("has a malformed %-escape in its \(part)")
            }
            bytes.append(value)
            iterator = iterator.dropFirst(2)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// The text with the password part (between `user:` and `@`) blanked, for error messages.
    static func redacting(_ text: String) -> String {
        guard let at = text.lastIndex(of: "@"), let schemeEnd = text.range(of: "://"), schemeEnd.upperBound <= at,
            let colon = text[schemeEnd.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[...colon]) + "***" + String(text[at...])
    }
}

public struct PostgresLocationError: Error, Sendable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
}

/// `cluster.chunks`: the S3-compatible bucket that holds every node's chunks (in packs).
public struct ClusterChunkStore: Sendable, Equatable {
    public var endpoint: String
    public var bucket: String
    public var region: String
    public var accessKey: String
    public var secretKey: String
    /// Put before every object name (`packs/`); empty for none.
    public var prefix: String

    public init(endpoint: String, bucket: String, region: String, accessKey: String, secretKey: String, prefix: String) {
        self.endpoint = endpoint
        self.bucket = bucket
        self.region = region
        self.accessKey = accessKey
        self.secretKey = secretKey
        self.prefix = prefix
    }
}

/// `cluster.cache`: the bounded local disk cache of chunks read from the store (LRU).
public struct ClusterChunkCache: Sendable, Equatable {
    public var path: String
    /// The most bytes the cache holds.
    public var size: Int

    public init(path: String, size: Int) {
        self.path = path
        self.size = size
    }

    /// Below this a cache holds too few packs' ranges to help.
    public static let minimumSize = 64 << 20
    public static let defaultSize = 10 << 30
}

extension DepotConfiguration {
    /// The `cluster:` section; nil when absent (embedded mode).
    static func parseCluster(_ node: ConfigNode) throws -> ClusterSettings? {
        guard node.isPresent else { return nil }
        try node.requireMapping()
        let indexText = try node["index"].requiredString()
        let index: PostgresLocation
        do {
            index = try PostgresLocation.parse(indexText)
        } catch {
            throw ConfigError(node.path + ".index", error.reason)
        }
        let name = try node["node"].string(default: ClusterSettings.hostName())
        if let problem = ClusterSettings.nodeNameProblem(name) {
            throw ConfigError(node.path + ".node", "\"\(name)\" is not a valid node name: \(problem)")
        }
        let chunks = try parseClusterChunks(node["chunks"])
        // The nodes of a shared index must share the keys that seal what it holds (ClusterKey).
        var key: ClusterKey? = nil
        if let path = try node["keyFile"].string() {
            key = ClusterKey(material: try keyFromFile(path, field: node.path + ".keyFile"))
        } else if chunks != nil {
            throw ConfigError(
                node.path + ".keyFile",
                "is required with cluster.chunks: every node of a cluster must be given the same key file (make one with `depot cluster keygen FILE`)"
            )
        }
        var settings = ClusterSettings(
            index: index, node: name, chunks: chunks, cache: try parseClusterCache(node["cache"]), key: key)
        let leaseSeconds = try node["leaseSeconds"].int(default: ClusterSettings.defaultLeaseSeconds)
        guard ClusterSettings.leaseSecondsRange.contains(leaseSeconds) else {
            throw ConfigError(
                node.path + ".leaseSeconds",
                "must be \(ClusterSettings.leaseSecondsRange.lowerBound) to \(ClusterSettings.leaseSecondsRange.upperBound) seconds, got \(leaseSeconds)"
            )
        }
        settings.leaseSeconds = leaseSeconds
        return settings
    }

    static func parseClusterChunks(_ node: ConfigNode) throws -> ClusterChunkStore? {
        guard node.isPresent else { return nil }
        try node.requireMapping()
        let endpoint = try node["endpoint"].requiredString()
        guard endpoint.hasPrefix("http://") || endpoint.hasPrefix("https://") else {
            throw ConfigError(node.path + ".endpoint", "must start with http:// or https://")
        }
        let bucket = try node["bucket"].requiredString()
        if let problem = Engine.bucketNameProblem(bucket) {
            throw ConfigError(node.path + ".bucket", "\"\(bucket)\" is not a valid bucket name: \(problem)")
        }
        let prefix = try node["prefix"].string(default: "")
        guard !prefix.hasPrefix("/") else {
            throw ConfigError(node.path + ".prefix", "must not start with /, got \"\(prefix)\"")
        }
        return ClusterChunkStore(
            endpoint: endpoint, bucket: bucket, region: try node["region"].string(default: "us-east-1"),
            accessKey: try node["accessKey"].requiredString(), secretKey: try node["secretKey"].requiredString(),
            prefix: prefix)
    }

    static func parseClusterCache(_ node: ConfigNode) throws -> ClusterChunkCache? {
        guard node.isPresent else { return nil }
        try node.requireMapping()
        let path = try node["path"].requiredString()
        let size = try node["size"].byteSize(default: ClusterChunkCache.defaultSize)
        guard size >= ClusterChunkCache.minimumSize else {
            throw ConfigError(node.path + ".size", "must be at least \(ClusterChunkCache.minimumSize >> 20)MiB")
        }
        return ClusterChunkCache(path: path, size: size)
    }
}
