import ArgumentParser
import Foundation
import Yams

/// The JSON document an admin command sends for a tier, policy or account: read from `--from
/// FILE` (JSON or YAML, the same fields as the configuration file), then `field=value`
/// arguments on top. Dotted names make nested objects (`match.bucket=rec`), a `[]` suffix
/// appends to a list (`replicate.to[]=cloud`). Values are sent as text; the server parses them
/// as the configuration file's would be (`4`, `true`, `64MiB`, `7d`).
enum AdminDocument {
    static func build(from file: String?, settings: [String]) throws -> [String: Any] {
        var document: [String: Any] = [:]
        if let file {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else {
                throw ValidationError("cannot read \(file)")
            }
            guard let loaded = try Yams.load(yaml: text) as? [String: Any] else {
                throw ValidationError("\(file) must hold one mapping of fields")
            }
            document = loaded
        }
        for setting in settings {
            guard let equals = setting.firstIndex(of: "=") else {
                throw ValidationError("\(setting): expected field=value")
            }
            let value = String(setting[setting.index(after: equals)...])
            var path = setting[..<equals].split(separator: ".").map(String.init)
            guard !path.isEmpty else { throw ValidationError("\(setting): no field name") }
            let last = path.removeLast()
            document = set(document, path: path, last: last, value: value)
        }
        return document
    }

    private static func set(_ object: [String: Any], path: [String], last: String, value: String) -> [String: Any] {
        var object = object
        if let first = path.first {
            let child = object[first] as? [String: Any] ?? [:]
            object[first] = set(child, path: Array(path.dropFirst()), last: last, value: value)
        } else if last.hasSuffix("[]") {
            let name = String(last.dropLast(2))
            object[name] = (object[name] as? [Any] ?? []) + [value]
        } else {
            object[last] = value
        }
        return object
    }
}
