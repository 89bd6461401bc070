import DepotConfig
import HTTPTypes

/// The client's address behind load balancers (`server.trustedProxies`): what bucket policies'
/// `aws:SourceIp`, the console's sign-in throttle and the access log's `client` see.
///
/// `X-Forwarded-For` is a header any client can write, so it counts only when the connection
/// comes from a trusted proxy, and then only as far as trusted proxies wrote it: entries are read
/// from the right (each proxy appends the address it received from), trusted ones are skipped,
/// and the first untrusted one is the client. Whatever a client put further left is never read.
/// An entry that is not an address ends the walk at the nearest trusted hop.
struct ForwardedClient: Sendable {
    let trustedProxies: [IPRange]

    static let header = HTTPField.Name("X-Forwarded-For")!

    func address(peer: String?, headers: HTTPFields) -> String? {
        guard let peer, !trustedProxies.isEmpty, isTrusted(peer) else { return peer }
        let entries = headers[values: Self.header].flatMap { $0.split(separator: ",") }
        var nearest = peer
        for entry in entries.reversed() {
            let candidate = Self.trimmed(entry)
            guard IPRange.parse(candidate) != nil else { return nearest }
            guard isTrusted(candidate) else { return candidate }
            nearest = candidate
        }
        return nearest
    }

    private static func trimmed(_ entry: Substring) -> String {
        let blank: (Character) -> Bool = { $0 == " " || $0 == "\t" }
        return String(entry.drop(while: blank).reversed().drop(while: blank).reversed())
    }

    private func isTrusted(_ address: String) -> Bool {
        trustedProxies.contains { $0.contains(address) }
    }
}
