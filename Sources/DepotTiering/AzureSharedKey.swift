import DepotHashing
import Foundation

/// Azure Storage's Shared Key authorization for the Blob service: an HMAC-SHA256, keyed with the
/// account key, over the request's verb, standard headers, `x-ms-` headers and resource.
struct AzureSharedKey: Sendable {
    let account: String
    let key: [UInt8]

    /// The standard headers in the order the string to sign lists them.
    static let standardHeaders = [
        "content-encoding", "content-language", "content-length", "content-md5", "content-type", "date",
        "if-modified-since", "if-match", "if-none-match", "if-unmodified-since", "range",
    ]

    /// `SharedKey account:signature` for a request. `path` is the URL's path as sent (encoded),
    /// `query` its decoded parameters.
    func authorization(method: String, path: String, query: [(String, String)], headers: [(String, String)]) -> String {
        var lowered: [String: String] = [:]
        for (name, value) in headers { lowered[name.lowercased()] = value }
        var lines = [method]
        for name in Self.standardHeaders {
            var value = lowered[name] ?? ""
            // Content-Length is empty, not 0, for a request without a body (version 2015-02-21 on).
            if name == "content-length" && value == "0" { value = "" }
            lines.append(value)
        }
        var text = lines.joined(separator: "\n") + "\n"
        for name in lowered.keys.filter({ $0.hasPrefix("x-ms-") }).sorted() {
            text += name + ":" + Self.fold(lowered[name]!) + "\n"
        }
        text += "/" + account + path
        var grouped: [String: [String]] = [:]
        for (name, value) in query { grouped[name.lowercased(), default: []].append(value) }
        for name in grouped.keys.sorted() { text += "\n" + name + ":" + grouped[name]!.sorted().joined(separator: ",") }
        let signature = HMAC.sha256(key: key, message: Array(text.utf8))
        return "SharedKey \(account):\(Base64.encode(signature))"
    }

    /// Header values are signed with runs of whitespace folded to one space, trimmed.
    static func fold(_ value: String) -> String {
        value.split(whereSeparator: { $0 == " " || $0 == "\t" }).joined(separator: " ")
    }
}
