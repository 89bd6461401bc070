import HTTPTypes

/// Whether a request to `/` is a person's browser rather than an S3 client: the one place that
/// decides the `/` redirect to the console (DepotServer's dispatch asks it before the S3 door).
///
/// A browser's address-bar visit is a plain GET of `/` with `Accept: text/html`, no query and no
/// credentials. S3's ListBuckets is also `GET /`, but every S3 client signs it (an Authorization
/// header for SigV4 and SigV2, or `X-Amz-*` / `AWSAccessKeyId` query parameters when presigned)
/// and none asks for HTML; an unsigned `GET /` from a script without `Accept: text/html` still
/// gets S3's XML answer.
public enum BrowserVisit {
    public static func wantsConsole(method: HTTPRequest.Method, target: String, headers: HTTPFields) -> Bool {
        guard method == .get, target == "/" else { return false }
        guard headers[.authorization] == nil else { return false }
        // Any x-amz-* header (x-amz-date, x-amz-content-sha256, x-amz-security-token) marks an S3 client.
        if headers.contains(where: { $0.name.canonicalName.hasPrefix("x-amz-") }) { return false }
        guard let accept = headers[values: .accept].joined(separator: ",").lowercased() as String?,
            accept.contains("text/html")
        else { return false }
        return true
    }
}
