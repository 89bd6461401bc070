/// Depot's own top-level paths on its one port (DESIGN.md, "One port, reserved names"). The
/// server's dispatch routes by these, and no bucket may be named like one: path-style S3 would
/// send `GET /metrics` to the metrics page, not to a bucket called `metrics`, so such a bucket
/// could be created but never listed. One list, so a new path cannot forget the bucket check.
public enum ReservedPath: String, CaseIterable, Sendable {
    /// The Vault API (and its copy of the documentation) under `/api/`.
    case api
    /// The admin API under `/admin/v1/`.
    case admin
    /// The web console under `/console/`; a browser at `/` is sent there.
    case console
    /// Swagger UI at `/swagger/index.html`.
    case swagger
    /// The OpenAPI document.
    case openAPI = "openapi.json"
    /// Prometheus metrics.
    case metrics
    /// `/health/live` and `/health/ready`.
    case health
    /// MinIO's health probes, `/minio/health/live`, `/ready` and `/cluster` (HealthEndpoints).
    case minio
    /// Browsers ask for it on their own at every visit of the console or the documentation.
    case favicon = "favicon.ico"

    /// The path itself, `/metrics`.
    public var path: String { "/" + rawValue }

    /// Whether `path` is this reserved path or lies under it (`/health` and `/health/live`, not `/healthy`).
    public func covers(_ path: String) -> Bool {
        path == self.path || path.hasPrefix(self.path + "/")
    }
}

extension Engine {
    /// Why `name` cannot be a bucket, or nil when it can: the S3 rules (3–63 of a-z 0-9 . -,
    /// alphanumeric ends, no "..", not an IP address, none of AWS's reserved prefixes and
    /// suffixes) and not one of Depot's own paths.
    public static func bucketNameProblem(_ name: String) -> String? {
        let bytes = Array(name.utf8)
        guard (3...63).contains(bytes.count) else { return "a bucket name has 3 to 63 characters" }
        if let reserved = ReservedPath(rawValue: name) {
            return "\"\(name)\" is reserved for Depot's own \(reserved.path) path"
        }
        func alnum(_ c: UInt8) -> Bool { (c >= 97 && c <= 122) || (c >= 48 && c <= 57) }
        guard alnum(bytes.first!), alnum(bytes.last!) else {
            return "a bucket name starts and ends with a lowercase letter or a digit"
        }
        for c in bytes where !(alnum(c) || c == 45 || c == 46) {
            return "a bucket name has only lowercase letters, digits, '.' and '-'"
        }
        if name.contains("..") || name.contains(".-") || name.contains("-.") {
            return "a bucket name has no \"..\", \".-\" or \"-.\""
        }
        if name.hasPrefix("xn--") || name.hasPrefix("sthree-") || name.hasSuffix("-s3alias") {
            return "the prefixes xn-- and sthree- and the suffix -s3alias are reserved"
        }
        let parts = name.split(separator: ".", omittingEmptySubsequences: false)
        if parts.count == 4 && parts.allSatisfy({ UInt8($0) != nil }) { return "a bucket name is not an IP address" }
        return nil
    }

    public static func isValidBucketName(_ name: String) -> Bool { bucketNameProblem(name) == nil }
}
