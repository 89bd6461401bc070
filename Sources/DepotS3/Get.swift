import DepotConfig
import DepotEngine
import DepotObjectBody
import DepotSigV4
import DepotStorage
import HTTPTypes
import HummingbirdCore
import NIOCore

extension S3Service {
    func getObject(_ c: S3Context, bucket: String, key: String) throws -> Response {
        let r = c.request
        let isHead = r.method == .head
        // Authorized by the dispatcher (the endpoint's `.read`); the bucket record is the one it read.
        _ = try requireBucket(c, bucket)
        let version = try requestedVersion(c)
        let customerKey = try requestCustomerKey(r)
        // A missing or wrong key for an SSE-C object: CustomerKeyEncryption.Refusal (S3Error.from).
        // A HEAD opens the record only (no chunk locations, no bytes to read): `reader` is nil.
        let reader =
            isHead ? nil : try engine.openObject(bucket: bucket, key: key, version: version, customerKey: customerKey?.key)
        let found =
            isHead
            ? try engine.openObjectHead(bucket: bucket, key: key, version: version, customerKey: customerKey?.key)?.record
            : reader?.record
        guard let record = found else {
            throw try missingObjectError(bucket: bucket, key: key, version: version, versionText: r.query["versionId"])
        }
        if record.isDeleteMarker { throw deleteMarkerReadError(record) }
        if customerKey != nil, !CustomerKeyEncryption.isCustomerKey(record.encryption) {
            throw S3Error.invalidRequest("The encryption parameters are not applicable to this object.")
        }
        let lastModified = record.created / 1000

        if let notModified = try evaluateReadPreconditions(r, record: record, lastModified: lastModified) {
            return notModified
        }

        var headers = HTTPFields()
        // The first fields of a new list are appended: the subscript's setter looks for earlier
        // fields of the name to replace (`HTTPFields.setFields`, 0.8% of a 4 KiB GET's server CPU).
        headers.reserveCapacity(12)
        headers.append(HTTPField(name: .eTag, value: "\"\(record.etag)\""))
        headers.append(HTTPField(name: .lastModified, value: httpDate(seconds: lastModified)))
        headers.append(HTTPField(name: .acceptRanges, value: "bytes"))
        headers.append(HTTPField(name: .contentType, value: record.contentType))
        for (name, value) in record.headerMetadata {
            if let field = HTTPField.Name(name) { headers[field] = value }
        }
        for (name, value) in record.userMetadata {
            if let field = HTTPField.Name("x-amz-meta-" + name) { headers[field] = MetadataEncoding.headerValue(value) }
        }
        if !record.tags.isEmpty { headers[.amzTaggingCount] = String(record.tags.count) }
        if let status = record.replicationStatus { headers[.amzReplicationStatus] = status }
        // Whether the bytes are local or, after a transition, read through from a tier.
        headers[.depotLocalCopy] = record.localState == .present ? "present" : "evicted"
        addVersionHeaders(record, &headers)
        customerKey?.addHeaders(&headers)
        addObjectLockHeaders(record, &headers)
        addStorageClassHeader(record, to: &headers)
        // Lifecycle rules expire current objects only.
        if version == nil { addExpirationHeader(bucket: bucket, key: key, record: record, to: &headers) }
        applyResponseOverrides(r, &headers)

        var range = 0..<record.size
        var status = HTTPResponse.Status.ok
        if let partText = r.query["partNumber"] {
            // A part of a multipart object (a single-part object has one part: itself).
            let parts = record.partSizes.isEmpty ? [record.size] : record.partSizes
            let number = try IntegerParameter.partNumber.parse(partText)
            // AWS (and s3-tests test_multipart_get_part) answer 400 InvalidPart, not a range error.
            guard number <= parts.count else {
                throw S3Error(
                    "InvalidPart", .badRequest,
                    "The requested partnumber is not satisfiable: the object has \(parts.count) part(s)",
                    details: [("PartNumberRequested", String(number)), ("ActualPartCount", String(parts.count))])
            }
            let start = parts.prefix(number - 1).reduce(0, +)
            range = start..<(start + parts[number - 1])
            headers[.amzMPPartsCount] = String(parts.count)
            // An empty part (an empty object's) has no byte to name in a Content-Range: 200.
            if !range.isEmpty && (!record.partSizes.isEmpty || r.headers[.range] != nil) {
                status = .partialContent
                headers[.contentRange] = ByteRangeRequest.contentRange(range, size: record.size)
            }
        } else if let rangeHeader = r.headers[.range], let parsed = try parseRange(rangeHeader, size: record.size) {
            range = parsed
            status = .partialContent
            headers[.contentRange] = ByteRangeRequest.contentRange(range, size: record.size)
        } else if r.headers[.amzChecksumMode]?.uppercased() == "ENABLED" {
            for (algorithm, value) in record.checksums {
                headers[HTTPField.Name("x-amz-checksum-" + algorithm.lowercased())!] = value
            }
            if !record.checksumType.isEmpty { headers[.amzChecksumType] = record.checksumType }
        }
        headers[.contentLength] = String(range.count)
        guard let reader else { return Response(status: status, headers: headers, body: ResponseBody()) }
        // Local chunks, or read through from a tier after a transition (decided in one place).
        return Response(status: status, headers: headers, body: try objectResponseBody(reader, range: range))
    }

    /// RFC 7232 as S3 applies it: If-Match / If-Unmodified-Since fail with 412; If-None-Match /
    /// If-Modified-Since answer 304. If-Match that holds overrides a failing If-Unmodified-Since,
    /// and a failing If-None-Match overrides If-Modified-Since.
    func evaluateReadPreconditions(_ r: S3Request, record: ObjectRecord, lastModified: Int64) throws -> Response? {
        let etag = record.etag
        let ifMatch = r.headers[.ifMatch]
        let ifNoneMatch = r.headers[.ifNoneMatch]
        func matches(_ list: String) -> Bool {
            list.split(separator: ",").contains { item in
                let tag = unquoteETag(String(item))
                return tag == "*" || tag == etag
            }
        }
        if let ifMatch {
            if !matches(ifMatch) { throw S3Error.preconditionFailed() }
        } else if let since = r.headers[.ifUnmodifiedSince].flatMap(HTTPDate.unixSeconds), lastModified > since {
            throw S3Error.preconditionFailed()
        }
        var notModified = false
        if let ifNoneMatch {
            notModified = matches(ifNoneMatch)
        } else if let since = r.headers[.ifModifiedSince].flatMap(HTTPDate.unixSeconds), lastModified <= since {
            notModified = true
        }
        guard notModified else { return nil }
        var headers = HTTPFields()
        headers[.eTag] = "\"\(etag)\""
        headers[.lastModified] = httpDate(seconds: lastModified)
        return Response(status: .notModified, headers: headers, body: ResponseBody())
    }

    /// `response-content-type` and friends on GET (signed requests only, as S3 requires).
    func applyResponseOverrides(_ r: S3Request, _ headers: inout HTTPFields) {
        // Most GETs have no query: no table of six pairs and six lookups for them.
        guard !r.query.isEmpty else { return }
        let overrides: [(String, HTTPField.Name)] = [
            ("response-content-type", .contentType), ("response-content-language", .contentLanguage),
            ("response-expires", .expires), ("response-cache-control", .cacheControl),
            ("response-content-disposition", .contentDisposition), ("response-content-encoding", .contentEncoding),
        ]
        for (parameter, field) in overrides {
            if let value = r.query[parameter] { headers[field] = value }
        }
    }
}

/// The `Range` header of a GET or HEAD (DepotObjectBody's ByteRangeRequest, shared with the
/// Vault blob): nil to send the whole object; InvalidRange (416) when nothing can be sent.
func parseRange(_ header: String, size: UInt64) throws -> Range<UInt64>? {
    switch ByteRangeRequest(header: header, size: size) {
    case .whole: return nil
    case .partial(let range): return range
    case .unsatisfiable: throw S3Error.invalidRange(size: size)
    }
}

extension HTTPField.Name {
    /// Names every GET or HEAD answers with or looks up, made once: `HTTPField.Name(_:)` checks its
    /// text is a token on every call (`HTTPField.tokenValidity`, 0.4% of a 4 KiB GET's server CPU
    /// with the other per-request names, RESULTS-NOTES "Small requests outside authentication").
    static let depotLocalCopy = HTTPField.Name("x-depot-local-copy")!
    static let amzTaggingCount = HTTPField.Name("x-amz-tagging-count")!
    static let amzReplicationStatus = HTTPField.Name("x-amz-replication-status")!
    static let amzMPPartsCount = HTTPField.Name("x-amz-mp-parts-count")!
    static let amzChecksumMode = HTTPField.Name("x-amz-checksum-mode")!
    static let amzChecksumType = HTTPField.Name("x-amz-checksum-type")!
}
