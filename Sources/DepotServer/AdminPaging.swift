import Foundation

/// One page of an admin list (tiers, policies, accounts, failed replications): `?limit=N`
/// (1 to 1000, default 1000) items after `?after=TOKEN`, the `next` of the page before. Items
/// are in the order of their sort key; `next` is that key of the page's last item, opaque to the
/// client (base64url), and present only when more items follow.
struct AdminPage {
    static let maximumLimit = 1000
    let limit: Int
    /// The sort key the page starts after.
    let after: String?

    init(_ query: [String: String]) throws {
        if let text = query["limit"] {
            guard let limit = Int(text), (1...Self.maximumLimit).contains(limit) else {
                throw AdminFailure(.badRequest, "must be a number from 1 to \(Self.maximumLimit)", field: "limit")
            }
            self.limit = limit
        } else {
            limit = Self.maximumLimit
        }
        if let token = query["after"], !token.isEmpty {
            guard let key = Self.decode(token) else {
                throw AdminFailure(.badRequest, "is not a token a list returned as next", field: "after")
            }
            after = key
        } else {
            after = nil
        }
    }

    /// The reply of a list: `items` under `name`, sorted by `sortKey`, the page of them, and
    /// `next` and `truncated`.
    func reply(_ name: String, _ items: [[String: Any]], sortKey: ([String: Any]) -> String) -> [String: Any] {
        let sorted = items.map { (sortKey($0), $0) }.sorted { $0.0 < $1.0 }
        let rest = sorted.drop { entry in after.map { entry.0 <= $0 } ?? false }
        let page = rest.prefix(limit)
        var reply: [String: Any] = [name: page.map(\.1), "truncated": rest.count > page.count]
        if rest.count > page.count, let last = page.last { reply["next"] = Self.encode(last.0) }
        return reply
    }

    static func encode(_ key: String) -> String {
        Data(key.utf8).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    static func decode(_ token: String) -> String? {
        var text = token.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: text).flatMap { String(data: $0, encoding: .utf8) }
    }
}

/// The filters of admin lists: each query parameter names a field the item must have (exactly,
/// or as a prefix for `prefix`), so `?type=s3&prefix=cam` keeps the s3 tiers whose name starts
/// with "cam". A filter an item does not carry excludes it.
struct AdminFilter {
    let query: [String: String]

    /// Whether `item` passes: `prefix` on the `prefixField`, and each of `exact` (query name to
    /// the item's field) compared as text (`true`/`false` for booleans).
    func keeps(_ item: [String: Any], prefixField: String, exact: [String: String] = [:]) -> Bool {
        if let prefix = query["prefix"], !prefix.isEmpty {
            guard let value = item[prefixField] as? String, value.hasPrefix(prefix) else { return false }
        }
        for (parameter, field) in exact {
            guard let wanted = query[parameter], !wanted.isEmpty else { continue }
            guard let value = item[field], Self.text(value) == wanted else { return false }
        }
        return true
    }

    static func text(_ value: Any) -> String {
        if type(of: value) == Bool.self, let flag = value as? Bool { return flag ? "true" : "false" }
        return "\(value)"
    }
}
