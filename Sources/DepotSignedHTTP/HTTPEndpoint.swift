/// Where a request goes: the scheme, the authority sent as `Host` (and signed), and a base path.
///
/// Parsed once from a configured URL (`https://s3.example.com`, `http://127.0.0.1:9000`,
/// an SQS queue URL); request URLs are then built from it and a path and query that the caller
/// encoded with ``DepotSigV4/SigV4Encoding``, so the bytes on the wire are the bytes signed.
public struct HTTPEndpoint: Sendable, Equatable {
    /// `http` or `https`.
    public var scheme: String
    /// `host[:port]`, exactly as sent in `Host`.
    public var host: String
    /// The URL's path (empty when it had none), left as written: already on-the-wire form.
    public var path: String

    public init(scheme: String, host: String, path: String = "") {
        self.scheme = scheme
        self.host = host
        self.path = path
    }

    /// Reads `scheme://host[:port][/path]`. Only `https://` means TLS; anything else (including a
    /// URL without a scheme) is plain `http`, as the tier and sink settings have always meant it.
    public init(url: String) {
        var rest = Substring(url)
        if let colon = url.utf8.firstIndex(of: UInt8(ascii: ":")), url.utf8[colon...].starts(with: "://".utf8) {
            rest = rest[url.utf8.index(colon, offsetBy: 3)...]
        }
        let host = rest.prefix { $0 != "/" }
        self.init(scheme: url.hasPrefix("https://") ? "https" : "http", host: String(host), path: String(rest[host.endIndex...]))
    }

    /// The URL of `path` (on-the-wire form, starting with `/`) and `query` (without `?`, empty for none)
    /// on this endpoint's scheme and host; the endpoint's own path is not prepended.
    public func url(path: String, query: String = "") -> String {
        "\(scheme)://\(host)\(path)" + (query.isEmpty ? "" : "?" + query)
    }
}
