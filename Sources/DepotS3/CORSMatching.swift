import HTTPTypes

/// How a CORS configuration answers a request, as S3 answers: the first rule that allows the
/// origin and the method (and, for a preflight, every requested header) decides, and its
/// headers are what the browser sees.
extension CORSConfiguration {
    /// The first rule allowing `origin` to use `method` and to send every header of `requestHeaders`
    /// (lowercased names; empty for an actual request, whose headers are not checked).
    func firstRule(origin: String, method: String, requestHeaders: [String] = []) -> Rule? {
        rules.first { rule in
            rule.allowedMethods.contains(method) && rule.allowsOrigin(origin) && rule.allowsHeaders(requestHeaders)
        }
    }

    /// `Access-Control-Request-Headers`: the header names a preflight asks for, lowercased.
    static func requestedHeaders(_ value: String?) -> [String] {
        guard let value else { return [] }
        return value.split(separator: ",").map { $0.trimmedSpaces().lowercased() }.filter { !$0.isEmpty }
    }

    /// A pattern with at most one `*` (PutBucketCors refuses more), which stands for any run of
    /// characters, including none.
    static func wildcard(_ pattern: String, matches value: String) -> Bool {
        guard let star = pattern.firstIndex(of: "*") else { return pattern == value }
        let prefix = pattern[..<star].utf8
        let suffix = pattern[pattern.index(after: star)...].utf8
        let bytes = value.utf8
        return bytes.count >= prefix.count + suffix.count && bytes.starts(with: prefix)
            && bytes.reversed().starts(with: suffix.reversed())
    }

    /// What every CORS answer names in `Vary`: a cache must not give one origin's answer to another.
    static let vary = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
}

extension CORSConfiguration.Rule {
    /// Origins compare case-sensitively, as in S3.
    func allowsOrigin(_ origin: String) -> Bool {
        allowedOrigins.contains { CORSConfiguration.wildcard($0, matches: origin) }
    }

    /// Header names compare case-insensitively; a rule without AllowedHeader allows none.
    func allowsHeaders(_ headers: [String]) -> Bool {
        headers.allSatisfy { header in
            allowedHeaders.contains { CORSConfiguration.wildcard($0.lowercased(), matches: header) }
        }
    }

    /// The CORS headers of an answer this rule allows: the origin (`*` when the rule allows any,
    /// and then no credentials), the rule's methods, expose headers and max age, and for a
    /// preflight the headers it asked for.
    func responseHeaders(origin: String, allowHeaders: [String] = []) -> [(HTTPField.Name, String)] {
        var headers: [(HTTPField.Name, String)] = []
        if allowedOrigins.contains("*") {
            headers.append((.accessControlAllowOrigin, "*"))
        } else {
            headers.append((.accessControlAllowOrigin, origin))
            headers.append((.accessControlAllowCredentials, "true"))
        }
        headers.append((.accessControlAllowMethods, allowedMethods.joined(separator: ", ")))
        if !allowHeaders.isEmpty { headers.append((.accessControlAllowHeaders, allowHeaders.joined(separator: ", "))) }
        if !exposeHeaders.isEmpty { headers.append((.accessControlExposeHeaders, exposeHeaders.joined(separator: ", "))) }
        if let maxAgeSeconds { headers.append((.accessControlMaxAge, String(maxAgeSeconds))) }
        headers.append((.vary, CORSConfiguration.vary))
        return headers
    }
}
