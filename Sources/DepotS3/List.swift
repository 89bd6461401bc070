import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotStorage
import HummingbirdCore

extension S3Service {
    private struct ListParameters {
        var prefix: String
        var delimiter: String
        var maxKeys: Int
        var encodeURL: Bool
    }

    /// Refuses a listing wider than the account's `list` grants (Account.mayList says why
    /// AccessDenied rather than a filtered listing). Every key-listing call asks here first.
    func requireListable(_ c: S3Context, bucket: String, prefix: String) throws {
        try requireAccess(
            c, action: c.policyAction, bucket: bucket, key: nil,
            allowListAllows: c.account.mayList(bucket: bucket, prefix: prefix),
            message: "Access Denied: this account may list only under its allowed prefixes")
    }

    private func listParameters(_ c: S3Context, bucket: String) throws -> ListParameters {
        let q = c.request.query
        try requireListable(c, bucket: bucket, prefix: q["prefix"] ?? "")
        let maxKeys = min(try IntegerParameter.maxKeys.parse(q["max-keys"], default: 1000), 1000)
        if let encoding = q["encoding-type"], encoding != "url" {
            throw S3Error.invalidArgument("Invalid Encoding Method specified in Request")
        }
        return ListParameters(
            prefix: q["prefix"] ?? "", delimiter: q["delimiter"] ?? "", maxKeys: maxKeys, encodeURL: q["encoding-type"] == "url")
    }

    private func writeContents(
        _ x: inout XMLWriter, _ listing: ObjectListing, _ p: ListParameters, owner: Bool, versions: Bool = false
    ) {
        func enc(_ s: String) -> String { p.encodeURL ? SigV4Encoding.encode(s, keepSlash: true) : s }
        let classes = settings.configurationView().storageClasses
        for (key, record) in listing.objects {
            x.group(versions ? "Version" : "Contents") { e in
                e.element("Key", enc(key))
                if versions {
                    e.element("VersionId", "null")
                    e.element("IsLatest", true)
                }
                e.element("LastModified", iso8601(milliseconds: record.created))
                e.element("ETag", "\"\(record.etag)\"")
                e.element("Size", record.size)
                e.element("StorageClass", classes.listedClass(of: record))
                if owner {
                    e.group("Owner") { o in
                        o.element("ID", record.owner)
                        o.element("DisplayName", record.owner)
                    }
                }
                for (algorithm, _) in record.checksums where !versions { e.element("ChecksumAlgorithm", algorithm) }
            }
        }
        for prefix in listing.commonPrefixes {
            x.group("CommonPrefixes") { e in e.element("Prefix", enc(prefix)) }
        }
    }

    func listObjectsV2(_ c: S3Context, bucket: String) throws -> Response {
        let p = try listParameters(c, bucket: bucket)
        let q = c.request.query
        var startAfter = q["start-after"] ?? ""
        if let token = q["continuation-token"] {
            guard let decoded = Base64URLToken.decode(token) else {
                throw S3Error.invalidArgument("The continuation token provided is incorrect")
            }
            startAfter = max(startAfter, decoded)
        }
        let listing = try engine.listObjects(
            bucket: bucket, prefix: p.prefix, delimiter: p.delimiter, startAfter: startAfter, maxKeys: p.maxKeys)
        var xml = XMLWriter()
        xml.group("ListBucketResult", namespace: true) { x in
            x.element("Name", bucket)
            x.element("Prefix", p.encodeURL ? SigV4Encoding.encode(p.prefix, keepSlash: true) : p.prefix)
            if !p.delimiter.isEmpty {
                x.element("Delimiter", p.encodeURL ? SigV4Encoding.encode(p.delimiter, keepSlash: true) : p.delimiter)
            }
            x.element("MaxKeys", p.maxKeys)
            x.element("KeyCount", listing.objects.count + listing.commonPrefixes.count)
            if let token = q["continuation-token"] { x.element("ContinuationToken", token) }
            if let s = q["start-after"] { x.element("StartAfter", p.encodeURL ? SigV4Encoding.encode(s, keepSlash: true) : s) }
            if p.encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", listing.isTruncated)
            if listing.isTruncated, let last = listing.lastReturned {
                x.element("NextContinuationToken", Base64URLToken.encode(last))
            }
            writeContents(&x, listing, p, owner: q["fetch-owner"] == "true")
        }
        return xmlResponse(xml)
    }

    func listObjectsV1(_ c: S3Context, bucket: String) throws -> Response {
        let p = try listParameters(c, bucket: bucket)
        let marker = c.request.query["marker"] ?? ""
        let listing = try engine.listObjects(
            bucket: bucket, prefix: p.prefix, delimiter: p.delimiter, startAfter: marker, maxKeys: p.maxKeys)
        var xml = XMLWriter()
        xml.group("ListBucketResult", namespace: true) { x in
            x.element("Name", bucket)
            // v1's top-level Prefix stays as sent even with encoding-type=url: AWS does not encode it (botocore
            // decodes only Delimiter, Marker, NextMarker, Key and CommonPrefixes in a v1 answer).
            x.element("Prefix", p.prefix)
            x.element("Marker", p.encodeURL ? SigV4Encoding.encode(marker, keepSlash: true) : marker)
            if !p.delimiter.isEmpty {
                x.element("Delimiter", p.encodeURL ? SigV4Encoding.encode(p.delimiter, keepSlash: true) : p.delimiter)
            }
            x.element("MaxKeys", p.maxKeys)
            if p.encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", listing.isTruncated)
            // S3 sends NextMarker only with a delimiter; clients use the last key otherwise.
            if listing.isTruncated, !p.delimiter.isEmpty, let last = listing.lastReturned {
                x.element("NextMarker", p.encodeURL ? SigV4Encoding.encode(last, keepSlash: true) : last)
            }
            writeContents(&x, listing, p, owner: true)
        }
        return xmlResponse(xml)
    }

    /// Unversioned buckets: every object is its only version, `null` (versioned: Versioning.swift).
    func listObjectVersions(_ c: S3Context, bucket: String) throws -> Response {
        let p = try listParameters(c, bucket: bucket)
        if let record = try engine.bucket(bucket), record.versioning != .unversioned {
            return try listVersionedObjects(
                c, bucket: bucket, prefix: p.prefix, delimiter: p.delimiter, maxKeys: p.maxKeys, encodeURL: p.encodeURL)
        }
        let marker = c.request.query["key-marker"] ?? ""
        let listing = try engine.listObjects(
            bucket: bucket, prefix: p.prefix, delimiter: p.delimiter, startAfter: marker, maxKeys: p.maxKeys)
        var xml = XMLWriter()
        xml.group("ListVersionsResult", namespace: true) { x in
            x.element("Name", bucket)
            // With encoding-type=url, AWS encodes KeyMarker, NextKeyMarker, Prefix, Delimiter and Key here.
            func enc(_ s: String) -> String { p.encodeURL ? SigV4Encoding.encode(s, keepSlash: true) : s }
            x.element("Prefix", enc(p.prefix))
            x.element("KeyMarker", enc(marker))
            x.element("VersionIdMarker", "")
            if !p.delimiter.isEmpty { x.element("Delimiter", enc(p.delimiter)) }
            x.element("MaxKeys", p.maxKeys)
            if p.encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", listing.isTruncated)
            if listing.isTruncated, let last = listing.lastReturned {
                x.element("NextKeyMarker", enc(last))
                x.element("NextVersionIdMarker", "null")
            }
            writeContents(&x, listing, p, owner: true, versions: true)
        }
        return xmlResponse(xml)
    }
}

/// Continuation tokens: the last key returned, base64url-encoded so it is opaque and URL-safe.
enum Base64URLToken {
    static func encode(_ key: String) -> String {
        Base64.encode(Array(key.utf8)).replacingOccurrences("+", "-").replacingOccurrences("/", "_")
    }

    static func decode(_ token: String) -> String? {
        let standard = token.replacingOccurrences("-", "+").replacingOccurrences("_", "/")
        return Base64.decode(standard).flatMap { String(validating: $0, as: UTF8.self) }
    }
}

extension String {
    func replacingOccurrences(_ target: Character, _ replacement: Character) -> String {
        String(map { $0 == target ? replacement : $0 })
    }
}
