import Foundation
import HummingbirdCore

/// One call of the admin API's own route handlers (installed by the server): method, path with
/// query, JSON body; the answer's status and JSON. The console's tier, policy, account and event
/// pages go through it, so they validate exactly as the admin API does and show its errors,
/// which name the field at fault.
public typealias ConsoleAdminCall =
    @Sendable (_ method: String, _ path: String, _ body: [UInt8]) async -> (
        status: Int, json: [UInt8]
    )

/// The admin API's answer as the pages read it.
struct AdminAnswer {
    let status: Int
    let object: [String: Any]
    var ok: Bool { (200..<300).contains(status) }
    /// "field: message", as the form shows it next to the fields.
    var error: String {
        let message = object["error"] as? String ?? "failed (HTTP \(status))"
        if let field = object["field"] as? String, !field.isEmpty { return "\(field): \(message)" }
        return message
    }
    var field: String? { object["field"] as? String }
}

extension ConsoleService {
    func adminCall(_ method: String, _ path: String, _ document: [String: Any]? = nil) async -> AdminAnswer {
        guard let admin else { return AdminAnswer(status: 503, object: ["error": "the admin API is not available"]) }
        let body = document.flatMap { try? JSONSerialization.data(withJSONObject: $0) }.map { Array($0) } ?? []
        let (status, json) = await admin(method, path, body)
        let object = (try? JSONSerialization.jsonObject(with: Data(json))) as? [String: Any] ?? [:]
        return AdminAnswer(status: status, object: object)
    }

    /// The admin pages show and change the whole server: only for the server-wide admin right (as the dashboard).
    func refuseUnlessAdmin(_ viewer: Viewer) -> Response? {
        mayViewServer(viewer)
            ? nil
            : problem(.forbidden, "Access denied", "This page manages the whole server: it needs the admin action.", viewer)
    }

    /// A JSON value as one line of text for a facts table.
    static func text(_ value: Any) -> String {
        if let string = value as? String { return string }
        // JSON's true and false arrive as NSNumber too (1 and 0); Foundation marks them by their class.
        if let number = value as? NSNumber, String(describing: type(of: number)) == "__NSCFBoolean" {
            return number.boolValue ? "true" : "false"
        }
        if let number = value as? NSNumber { return number.stringValue }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }

    static func facts(_ object: [String: Any]) -> [[String: Any]] {
        object.keys.sorted().map { ["name": $0, "value": text(object[$0]!)] }
    }

    /// Form fields that were filled in (an empty field is left out of the document, as if not given).
    static func filled(_ form: [String: String], _ names: [String]) -> [String: Any] {
        var out: [String: Any] = [:]
        for name in names {
            if let value = form[name]?.trimmingCharacters(in: .whitespaces), !value.isEmpty { out[name] = value }
        }
        return out
    }
}
