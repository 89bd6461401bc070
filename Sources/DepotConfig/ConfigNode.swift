import Glibc
import Yams

/// A configuration error that names the field, with its path, e.g. `storage.chunking.min`.
public struct ConfigError: Error, CustomStringConvertible, Sendable {
    public let path: String
    public let message: String
    public init(_ path: String, _ message: String) {
        self.path = path
        self.message = message
    }
    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}

/// A YAML node that knows where it sits, so every read can report the exact field on error.
/// Reads mark keys as used; `finish()` then refuses any key nobody read (a typo in a field name
/// is an error, not a silently ignored setting).
final class ConfigNode {
    let node: Yams.Node?
    let path: String
    private var used: Set<String> = []
    /// Set for sections another part validates: their keys are not checked here.
    var acceptsAnyField = false
    private var children: [ConfigNode] = []
    /// Whether `${NAME}` reads the environment: yes in the file the admin wrote, no in documents
    /// sent to the admin API, which must not be able to read the server's environment (its root
    /// password, say) into a tier's settings.
    let substitutesEnvironment: Bool

    init(_ node: Yams.Node?, path: String, substitutesEnvironment: Bool = true) {
        self.node = node
        self.path = path
        self.substitutesEnvironment = substitutesEnvironment
    }

    var isPresent: Bool {
        guard let node else { return false }
        if case .scalar(let s) = node, s.string == "~" || s.string == "null" || (s.string.isEmpty && s.style == .plain) {
            return false
        }
        return true
    }

    func child(_ key: String) -> ConfigNode {
        used.insert(key)
        let childPath = path.isEmpty ? key : "\(path).\(key)"
        let value = node?.mapping?[Yams.Node(key)]
        let child = ConfigNode(value, path: childPath, substitutesEnvironment: substitutesEnvironment)
        children.append(child)
        return child
    }

    subscript(_ key: String) -> ConfigNode { child(key) }

    func items() throws -> [ConfigNode] {
        guard isPresent else { return [] }
        guard let sequence = node?.sequence else { throw ConfigError(path, "must be a list") }
        return sequence.enumerated().map { i, n in
            let c = ConfigNode(n, path: "\(path)[\(i)]", substitutesEnvironment: substitutesEnvironment)
            children.append(c)
            return c
        }
    }

    func requireMapping() throws {
        if isPresent && node?.mapping == nil { throw ConfigError(path, "must be a mapping of fields") }
    }

    /// The scalar text with `${NAME}` replaced from the environment.
    func string() throws -> String? {
        guard isPresent else { return nil }
        guard let scalar = node?.scalar else { throw ConfigError(path, "must be a single value") }
        return try substitute(scalar.string)
    }

    func string(default value: String) throws -> String { try string() ?? value }

    func requiredString() throws -> String {
        guard let s = try string(), !s.isEmpty else { throw ConfigError(path, "is required") }
        return s
    }

    func int(default value: Int) throws -> Int {
        guard let s = try string() else { return value }
        guard let v = Int(s) else { throw ConfigError(path, "must be a whole number, got \"\(s)\"") }
        return v
    }

    func bool(default value: Bool) throws -> Bool {
        guard let s = try string() else { return value }
        switch s.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw ConfigError(path, "must be true or false, got \"\(s)\"")
        }
    }

    func byteSize(default value: Int) throws -> Int {
        guard let s = try string() else { return value }
        guard let v = ByteSize.parse(s) else {
            throw ConfigError(path, "must be a size such as 256KiB, 1MiB or 1GiB, got \"\(s)\"")
        }
        return v
    }

    /// Durations as admins write them: `30s`, `15m`, `24h`, `7d`, or plain seconds.
    func duration(default value: Int) throws -> Int {
        guard let s = try string() else { return value }
        let units: [(String, Int)] = [("d", 86400), ("h", 3600), ("m", 60), ("s", 1)]
        for (suffix, factor) in units where s.hasSuffix(suffix) {
            if let n = Int(s.dropLast()), n >= 0 { return n * factor }
        }
        guard let n = Int(s), n >= 0 else {
            throw ConfigError(path, "must be a duration such as 30s, 15m, 24h or 7d, got \"\(s)\"")
        }
        return n
    }

    func stringList() throws -> [String] {
        try items().map { try $0.requiredString() }
    }

    /// Refuses keys that no reader asked for, here and in every child read so far.
    func finish() throws {
        if let mapping = node?.mapping, !acceptsAnyField {
            for (key, _) in mapping {
                let name = key.string ?? "?"
                if !used.contains(name) {
                    throw ConfigError(path.isEmpty ? name : "\(path).\(name)", "unknown field")
                }
            }
        }
        for child in children { try child.finish() }
    }

    private func substitute(_ text: String) throws -> String {
        guard substitutesEnvironment, text.contains("${") else { return text }
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let end = rest[start.upperBound...].firstIndex(of: "}") else {
                throw ConfigError(path, "unclosed ${ in \"\(text)\"")
            }
            let name = String(rest[start.upperBound..<end])
            guard let value = getenv(name) else {
                throw ConfigError(path, "environment variable \(name) is not set")
            }
            out += String(cString: value)
            rest = rest[rest.index(after: end)...]
        }
        return out + rest
    }
}

/// Sizes as admins write them: `256KiB`, `1MiB`, `1GiB`, `20MB`, `512` (bytes).
public enum ByteSize {
    public static func parse(_ text: String) -> Int? {
        let t = text.trimmingCharacters(in: " ")
        let units: [(String, Int)] = [
            ("KiB", 1 << 10), ("MiB", 1 << 20), ("GiB", 1 << 30), ("TiB", 1 << 40),
            ("KB", 1000), ("MB", 1_000_000), ("GB", 1_000_000_000), ("TB", 1_000_000_000_000),
            ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30), ("B", 1),
        ]
        for (suffix, factor) in units where t.hasSuffix(suffix) {
            guard let n = Double(t.dropLast(suffix.count).trimmingCharacters(in: " ")), n >= 0 else { return nil }
            return Int(n * Double(factor))
        }
        guard let n = Int(t), n >= 0 else { return nil }
        return n
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: Character) -> String {
        var s = Substring(self)
        while s.first == set { s.removeFirst() }
        while s.last == set { s.removeLast() }
        return String(s)
    }
}
