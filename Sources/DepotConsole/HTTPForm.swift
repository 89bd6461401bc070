import DepotSigV4
import HTTPTypes

/// Parsing of what a browser sends: `application/x-www-form-urlencoded` bodies and queries, and
/// the Cookie header.
enum HTTPForm {
    /// The most a console form may hold; sign-in and delete forms are a few hundred bytes.
    static let maximumBodyBytes = 16 << 10

    /// `a=1&b=two`: names and values percent-decoded (`+` as a space); later duplicates lose.
    static func fields(_ text: some StringProtocol) -> [String: String] {
        var out: [String: String] = [:]
        for pair in text.split(separator: "&", omittingEmptySubsequences: true) {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard let name = SigV4Encoding.decodeUTF8(parts[0], plusAsSpace: true), out[name] == nil else { continue }
            let value = parts.count > 1 ? SigV4Encoding.decodeUTF8(parts[1], plusAsSpace: true) : ""
            if let value { out[name] = value }
        }
        return out
    }

    /// The request's cookies by name (the first of a repeated name wins, as browsers send the most specific first).
    static func cookies(_ headers: HTTPFields) -> [String: String] {
        var out: [String: String] = [:]
        for header in headers[values: .cookie] {
            for part in header.split(separator: ";") {
                let pair = part.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                let name = pair[0].trimmingSpaces
                if out[name] == nil { out[name] = pair[1].trimmingSpaces }
            }
        }
        return out
    }

    /// A query component: percent-encoded so that it survives as one parameter value.
    static func encode(_ value: String) -> String { SigV4Encoding.encode(value, keepSlash: false) }

    /// `name=value&...` from pairs, each value percent-encoded.
    static func query(_ pairs: [(String, String)]) -> String {
        pairs.map { "\($0.0)=\(encode($0.1))" }.joined(separator: "&")
    }
}

extension Substring {
    var trimmingSpaces: String {
        var s = self[...]
        while s.first == " " { s = s.dropFirst() }
        while s.last == " " { s = s.dropLast() }
        return String(s)
    }
}
