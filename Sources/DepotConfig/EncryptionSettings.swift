import Glibc

/// `encryption:` the master keys of server-side encryption (SSE-S3, SSE-KMS):
///
/// ```yaml
/// encryption:
///   keys:
///     - { id: k1, file: /etc/depot/k1.key }   # 32 raw bytes, or 64 hex digits
///     - { id: k2, env: DEPOT_KEY_K2 }         # 64 hex digits
///     - { id: k3, file: /etc/depot/k3-new.key, previous: [{ file: /etc/depot/k3-old.key }] }
///   default: k1                               # SSE-S3 and aws:kms without a key id
///   allowCustomerKeysOverHTTP: false          # SSE-C keys over plain HTTP (tests, TLS-terminating proxy)
/// ```
public struct EncryptionSettings: Sendable, Equatable {
    public var keys: [String: [UInt8]] = [:]
    public var defaultKeyId: String?
    /// Earlier keys of an id (`previous:`), for rotation.
    public var previousKeys: [String: [[UInt8]]] = [:]
    /// SSE-C requests over plain HTTP are refused (the key would cross the network in clear)
    /// unless this is true: for a TLS-terminating proxy in front of Depot, or tests.
    public var allowCustomerKeysOverHTTP = false
    public init() {}
}

extension DepotConfiguration {
    static func parseEncryption(_ node: ConfigNode) throws -> EncryptionSettings {
        var settings = EncryptionSettings()
        guard node.isPresent else { return settings }
        try node.requireMapping()
        settings.allowCustomerKeysOverHTTP = try node["allowCustomerKeysOverHTTP"].bool(default: false)
        for item in try node["keys"].items() {
            try item.requireMapping()
            let id = try item["id"].requiredString()
            guard !id.isEmpty, id.utf8.count <= 128, id.allSatisfy({ $0.isLetter || $0.isNumber || "-_.".contains($0) })
            else {
                throw ConfigError(item["id"].path, "must be 1 to 128 letters, digits, '-', '_' or '.', got \"\(id)\"")
            }
            guard settings.keys[id] == nil else { throw ConfigError(item["id"].path, "key id \(id) is given twice") }
            settings.keys[id] = try keyMaterial(item)
            // Rotation: the id's earlier keys, which still open data keys not yet wrapped again.
            let previous = try item["previous"].items().map { old in
                try old.requireMapping()
                return try keyMaterial(old)
            }
            if !previous.isEmpty { settings.previousKeys[id] = previous }
        }
        if let chosen = try node["default"].string() {
            guard settings.keys[chosen] != nil else {
                throw ConfigError(node["default"].path, "names key \(chosen), which encryption.keys does not list")
            }
            settings.defaultKeyId = chosen
        } else if settings.keys.count == 1 {
            settings.defaultKeyId = settings.keys.keys.first
        } else if !settings.keys.isEmpty {
            throw ConfigError(node["default"].path, "is required when encryption.keys lists more than one key")
        }
        return settings
    }

    /// A key from `file` or `env`: exactly one of them.
    static func keyMaterial(_ item: ConfigNode) throws -> [UInt8] {
        let file = try item["file"].string()
        let variable = try item["env"].string()
        switch (file, variable) {
        case (let path?, nil): return try keyFromFile(path, field: item["file"].path)
        case (nil, let name?):
            guard let value = getenv(name) else {
                throw ConfigError(item["env"].path, "environment variable \(name) is not set")
            }
            guard let key = hexKey(String(cString: value)) else {
                throw ConfigError(item["env"].path, "environment variable \(name) must hold 64 hex digits (32 bytes)")
            }
            return key
        default:
            throw ConfigError(item.path, "needs exactly one of file or env")
        }
    }

    /// 32 raw bytes, or 64 hex digits with an optional trailing newline.
    static func keyFromFile(_ path: String, field: String) throws -> [UInt8] {
        guard let handle = fopen(path, "rb") else {
            throw ConfigError(field, "cannot read \(path): \(String(cString: strerror(errno)))")
        }
        defer { fclose(handle) }
        var buffer = [UInt8](repeating: 0, count: 130)
        let count = fread(&buffer, 1, buffer.count, handle)
        let bytes = Array(buffer.prefix(count))
        if bytes.count == 32 { return bytes }
        if let key = hexKey(String(decoding: bytes, as: UTF8.self)) { return key }
        throw ConfigError(field, "\(path) must hold 32 raw bytes or 64 hex digits, it holds \(bytes.count) bytes")
    }

    static func hexKey(_ text: String) -> [UInt8]? {
        let digits = Array(text.trimmingCharacters(in: "\n").utf8)
        guard digits.count == 64 else { return nil }
        var key: [UInt8] = []
        var index = 0
        while index < 64 {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else { return nil }
            key.append(byte)
            index += 2
        }
        return key
    }
}
