import DepotEngine
import HTTPTypes
import HummingbirdCore
import NIOCore

/// CORS on the S3 door: PutBucketCors, GetBucketCors and DeleteBucketCors; the preflight
/// (`OPTIONS`), answered from the bucket's rules without authentication, as S3 answers it; and
/// the CORS headers of every other answer (errors included) to a request with an `Origin` that a
/// rule allows, added in one place (`respond`).
extension S3Service {
    /// The bucket's CORS configuration; nil when it has none, or when there is no such bucket.
    func corsConfiguration(bucket: String) -> CORSConfiguration? {
        storedBucketDocument(bucket, CORSConfiguration.documentName, what: "CORS configuration") {
            try CORSConfiguration(xml: $0)
        }
    }

    func getBucketCors(_ c: S3Context, bucket: String) throws -> Response {
        try bucketDocumentResponse(bucket, CORSConfiguration.documentName, .cors)
    }

    /// Replaces the bucket's configuration with a valid one; a refused one changes nothing.
    func putBucketCors(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: CORSConfiguration.maximumBytes)
        let configuration = try CORSConfiguration(xml: bytes)
        try await engine.setBucketDocument(
            bucket, name: CORSConfiguration.documentName, Array(configuration.document.text.utf8))
        return emptyResponse(.ok)
    }

    func deleteBucketCors(_ c: S3Context, bucket: String) async throws -> Response {
        try requireBucket(bucket)
        try await engine.setBucketDocument(bucket, name: CORSConfiguration.documentName, nil)
        return emptyResponse(.noContent)
    }

    /// `OPTIONS /bucket[/key]`: a browser asking whether its origin may send a request. Needs no
    /// signature (browsers send none); answered only from the bucket's rules.
    func preflight(_ r: S3Request) throws -> Response {
        guard let origin = r.headers[.origin] else {
            throw S3Error("BadRequest", .badRequest, "Insufficient information. Origin request header needed.")
        }
        let method = r.headers[.accessControlRequestMethod]
        guard let method, CORSConfiguration.methods.contains(method) else {
            throw S3Error("BadRequest", .badRequest, "Invalid Access-Control-Request-Method: \(method ?? "null")")
        }
        func forbidden(_ reason: String) -> S3Error {
            S3Error(
                "AccessForbidden", .forbidden, "CORSResponse: " + reason,
                details: [("Method", method), ("ResourceType", r.key == nil ? "BUCKET" : "OBJECT")])
        }
        // No bucket, or no configuration: S3's one answer for both (an unsigned request learns
        // nothing about which buckets exist).
        guard let bucket = r.bucket, let configuration = corsConfiguration(bucket: bucket) else {
            throw forbidden("CORS is not enabled for this bucket.")
        }
        let requested = CORSConfiguration.requestedHeaders(r.headers[.accessControlRequestHeaders])
        guard let rule = configuration.firstRule(origin: origin, method: method, requestHeaders: requested) else {
            throw forbidden(
                "This CORS request is not allowed. This is usually because the evalution of Origin, request method / Access-Control-Request-Method or Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."
            )
        }
        var headers = HTTPFields()
        for (name, value) in rule.responseHeaders(origin: origin, allowHeaders: requested) { headers[name] = value }
        return emptyResponse(.ok, headers: headers)
    }

    /// Adds the CORS headers to the answer of a request (not a preflight) whose `Origin` a rule of
    /// the bucket allows for its method, success or error alike, as S3 does; otherwise adds
    /// nothing, and the browser keeps the answer from the page. The method is the request's, or
    /// the `Access-Control-Request-Method` it names (as S3 and the s3-tests CORS cases answer).
    func addCORSHeaders(to response: inout Response, for r: S3Request) {
        guard r.method != .options, let origin = r.headers[.origin], let bucket = r.bucket,
            let configuration = corsConfiguration(bucket: bucket)
        else { return }
        let method = r.headers[.accessControlRequestMethod] ?? r.method.rawValue
        guard let rule = configuration.firstRule(origin: origin, method: method) else { return }
        for (name, value) in rule.responseHeaders(origin: origin) { response.headers[name] = value }
    }
}
