import DepotSigV4
import HTTPTypes

/// An S3 request with its addressing resolved: which bucket and key it names, path-style or
/// virtual-host style, and its query decoded. The raw path and query are kept for SigV4, which
/// signs exactly what the client sent.
public struct S3Request: Sendable {
    public let method: HTTPRequest.Method
    public let rawPath: String
    public let rawQuery: String
    public let query: [String: String]
    public let queryOrder: [String]
    public let headers: HTTPFields
    /// The Host header (HTTP/1) or :authority (HTTP/2); HTTPTypes keeps it out of `headers`.
    public let authority: String
    public let bucket: String?
    public let key: String?

    /// Parses the request target; nil when its percent-encoding is not valid UTF-8.
    public init?(method: HTTPRequest.Method, target: String, authority: String?, headers: HTTPFields, domain: String) {
        self.method = method
        self.headers = headers
        self.authority = authority ?? ""
        let questionMark = target.firstIndex(of: "?")
        rawPath = String(questionMark.map { target[..<$0] } ?? target[...])
        rawQuery = questionMark.map { String(target[target.index(after: $0)...]) } ?? ""
        var query: [String: String] = [:]
        var order: [String] = []
        for pair in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let eq = pair.firstIndex(of: "=")
            let name = SigV4Encoding.decodeUTF8(eq.map { pair[..<$0] } ?? pair[...], plusAsSpace: true)
            let value = eq.map { SigV4Encoding.decodeUTF8(pair[pair.index(after: $0)...], plusAsSpace: true) } ?? ""
            guard let name, let value else { return nil }
            if query[name] == nil { order.append(name) }
            query[name] = value
        }
        self.query = query
        self.queryOrder = order
        // A path without escapes is its own decoding: no second copy of it (SigV4Encoding.decodeUTF8
        // copies every path, and this runs once per request).
        let escaped = rawPath.utf8.contains(UInt8(ascii: "%"))
        guard let path = escaped ? SigV4Encoding.decodeUTF8(rawPath, plusAsSpace: false) : rawPath, path.hasPrefix("/")
        else { return nil }

        // Virtual-host style: "<bucket>.<domain>" in Host, the whole path is the key. Without a
        // domain (the default) there is no host to look at.
        if !domain.isEmpty, let bucket = Self.virtualHostBucket(authority: self.authority, domain: domain) {
            self.bucket = bucket
            let k = String(path.dropFirst())
            key = k.isEmpty ? nil : k
            return
        }
        let trimmed = path.dropFirst()
        if trimmed.isEmpty {
            bucket = nil
            key = nil
        } else if let slash = trimmed.firstIndex(of: "/") {
            bucket = String(trimmed[..<slash])
            let k = String(trimmed[trimmed.index(after: slash)...])
            key = k.isEmpty ? nil : k
        } else {
            bucket = String(trimmed)
            key = nil
        }
    }

    /// The bucket a virtual-host style Host names (`<bucket>.<domain>`, any port dropped), or nil.
    static func virtualHostBucket(authority: String, domain: String) -> String? {
        var host = authority
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        guard host.count > domain.count + 1, host.lowercased().hasSuffix("." + domain.lowercased()) else { return nil }
        return String(host.dropLast(domain.count + 1))
    }

    public func header(_ name: String) -> String? {
        HTTPField.Name(name).flatMap { headers[$0] }
    }

    /// The resource named in error responses: `/bucket/key`.
    public var resource: String {
        guard let bucket else { return "/" }
        return "/" + bucket + (key.map { "/" + $0 } ?? "")
    }
}

extension StringProtocol {
    /// Without leading and trailing spaces and tabs.
    func trimmedSpaces() -> String {
        var s = Substring(self)
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return String(s)
    }
}

extension HTTPField.Name {
    /// Names every S3 request looks up or answers with, made once: `HTTPField.Name(_:)` checks
    /// its text is a token on every call (0.4-0.5% of a 4 KiB request's server CPU, perf).
    static let amzCopySource = HTTPField.Name("x-amz-copy-source")!
    static let amzRequestId = HTTPField.Name("x-amz-request-id")!
}
