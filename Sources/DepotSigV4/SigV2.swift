import DepotHashing

/// AWS Signature Version 2 for S3, as the S3 developer guide's "Signing and authenticating REST requests" describes
/// it: `Base64(HMAC-SHA1(secret, StringToSign))`, where
///
///     StringToSign = Verb \n Content-MD5 \n Content-Type \n Date \n CanonicalizedAmzHeaders CanonicalizedResource
///
/// AWS deprecated it, but MinIO accepts it and s3cmd (`signature_v2 = True`), awscli v1 / botocore
/// (`signature_version='s3'`) presigned URLs and older browser forms still make it. Three places carry it:
/// the `Authorization: AWS <key>:<signature>` header, a presigned query (`AWSAccessKeyId`, `Expires`, `Signature`)
/// and a POST form (`AWSAccessKeyId`, `policy`, `signature`; see ``SigV2/isValidSignature(_:secretKey:message:)``).
///
/// V2 signs no payload hash: the body is as trusted as `UNSIGNED-PAYLOAD` in SigV4, and `Content-MD5`, when sent,
/// is signed and must be checked against the body by the caller.
public enum SigV2 {
    /// The query parameters that belong to the resource, and so to the CanonicalizedResource, in the string to sign.
    /// The developer guide lists the first group; clients (botocore's `QSAOfInterest`, s3cmd, MinIO) sign the others
    /// as well, and a parameter outside this list is never signed by any of them.
    public static let subResources: Set<String> = [
        "acl", "lifecycle", "location", "logging", "notification", "partNumber", "policy", "requestPayment", "torrent",
        "uploadId", "uploads", "versionId", "versioning", "versions", "website",
        "response-content-type", "response-content-language", "response-expires", "response-cache-control",
        "response-content-disposition", "response-content-encoding",
        "accelerate", "analytics", "cors", "defaultObjectAcl", "delete", "encryption", "inventory", "legal-hold",
        "metrics", "object-lock", "replication", "restore", "retention", "select", "select-type", "storageClass",
        "tagging",
    ]

    /// `Base64(HMAC-SHA1(secret, message))`.
    public static func signature(secretKey: String, message: String) -> String {
        Base64.encode(HMAC.sha1(key: Array(secretKey.utf8), message: Array(message.utf8)))
    }

    /// Compares a client's Base64 signature with the expected one in constant time; a signature that is not
    /// Base64 of 20 bytes never matches.
    public static func isValidSignature(_ signature: String, secretKey: String, message: String) -> Bool {
        guard let given = Base64.decode(signature), given.count == 20 else { return false }
        return constantTimeEquals(given, HMAC.sha1(key: Array(secretKey.utf8), message: Array(message.utf8)))
    }

    /// The string to sign. `date` is the `Date` header (empty when `x-amz-date` is sent) or, for a presigned URL,
    /// `Expires`. `amzHeaders` are every `x-amz-*` header; `resource` is ``canonicalResource(bucket:rawPath:query:)``.
    public static func stringToSign(
        method: String, contentMD5: String, contentType: String, date: String, amzHeaders: [SigV4Header],
        resource: String
    ) -> String {
        var text = method + "\n" + contentMD5 + "\n" + contentType + "\n" + date + "\n"
        text += canonicalAmzHeaders(amzHeaders)
        return text + resource
    }

    /// `x-amz-*` headers with lower-case names, sorted by name, repeated names joined with `,`, values trimmed;
    /// each followed by a newline. Other headers are ignored.
    public static func canonicalAmzHeaders(_ headers: [SigV4Header]) -> String {
        var byName: [String: [String]] = [:]
        for header in headers {
            let name = CanonicalRequest.lowercased(header.name)
            guard name.hasPrefix("x-amz-") else { continue }
            byName[name, default: []].append(trimmed(header.value))
        }
        return byName.keys.sorted().map { name in name + ":" + byName[name]!.joined(separator: ",") + "\n" }.joined()
    }

    /// `/bucket` (from the Host header, for virtual-host style requests; empty for path style) + the path as sent
    /// (still percent-encoded) + the sub-resources of the query, sorted by name, with their decoded values:
    /// `/johnsmith/photos/puppy.jpg?acl`, `/bucket/key?partNumber=2&uploadId=abc`.
    public static func canonicalResource(bucket: String?, rawPath: String, query: [(name: String, value: String)])
        -> String
    {
        var resource = (bucket.map { "/" + $0 } ?? "") + (rawPath.isEmpty ? "/" : rawPath)
        let signed = query.filter { subResources.contains($0.name) }.sorted { $0.name < $1.name }
        if !signed.isEmpty {
            resource += "?" + signed.map { $0.value.isEmpty ? $0.name : $0.name + "=" + $0.value }.joined(separator: "&")
        }
        return resource
    }

    static func trimmed(_ value: String) -> String {
        var v = Substring(value)
        while let c = v.first, c == " " || c == "\t" { v = v.dropFirst() }
        while let c = v.last, c == " " || c == "\t" { v = v.dropLast() }
        return String(v)
    }
}

/// What a V2-signed request claims, parsed but not yet verified.
public struct SigV2Claim: Sendable {
    public enum Kind: Sendable, Equatable {
        /// `Authorization: AWS key:signature`, dated by `x-amz-date` or `Date` (Unix seconds).
        case header(time: Int)
        /// `?AWSAccessKeyId=…&Expires=…&Signature=…`; valid until `expires` (Unix seconds).
        case presigned(expires: Int)
    }

    public let kind: Kind
    /// The key to look the account up by; an unknown one is S3's `InvalidAccessKeyId`.
    public let accessKey: String
    /// Base64, as sent.
    public let signature: String
    /// What the client should have signed; S3 returns it as `StringToSign` in `SignatureDoesNotMatch`.
    public let stringToSign: String
    /// For a path-style bucket request (`/bucket`), the same with the resource `/bucket/`: botocore signs the
    /// bucket's resource with the trailing slash (as the guide's examples write it) while it sends `/bucket`.
    public let bucketSlashStringToSign: String?
}

/// Verifies V2-signed requests in the same two steps as ``SigV4Verifier``: ``claim(of:virtualHostBucket:)`` parses
/// without any secret, ``verify(_:secretKey:now:)`` checks the time and the signature.
public struct SigV2Verifier: Sendable {
    /// Allowed difference between a header-signed request's date and the server clock, in seconds.
    public let maxSkew: Int

    public init(maxSkew: Int = 900) {
        self.maxSkew = maxSkew
    }

    /// Whether the request is signed with V2 at all: an `Authorization: AWS …` header, or a query with
    /// `AWSAccessKeyId` and `Signature` (and no SigV4 parameters).
    public static func isSigV2(_ request: SigV4Request) -> Bool {
        if let authorization = request.firstValue(of: "authorization") {
            return authorization.hasPrefix("AWS ")
        }
        guard request.rawQuery.contains("AWSAccessKeyId"), !request.rawQuery.contains("X-Amz-Algorithm") else {
            return false
        }
        return SigV4Encoding.parseQuery(request.rawQuery)?.contains { $0.hasName("AWSAccessKeyId") } ?? false
    }

    /// Parses the V2 authentication of a request that ``isSigV2(_:)`` accepted. `virtualHostBucket` is the bucket
    /// named by the Host header when the request uses virtual-host style (the canonical resource starts with it).
    public func claim(of request: SigV4Request, virtualHostBucket: String? = nil) throws(SigV4Error) -> SigV2Claim {
        guard let items = SigV4Encoding.parseQuery(request.rawQuery) else { throw .malformedQuery }
        let query = items.map { (name: $0.nameString, value: $0.valueString) }
        let resource = SigV2.canonicalResource(bucket: virtualHostBucket, rawPath: request.rawPath, query: query)
        var amzHeaders = request.headers.filter { CanonicalRequest.lowercased($0.name).hasPrefix("x-amz-") }
        let authorizations = request.values(of: "authorization")
        let kind: SigV2Claim.Kind
        let accessKey: String
        let signature: String
        let dateLine: String
        var contentType = request.value(of: "content-type") ?? ""
        var contentMD5 = request.value(of: "content-md5") ?? ""
        if let authorization = authorizations.first {
            guard authorizations.count == 1 else { throw .malformedAuthorization("more than one Authorization header") }
            guard !items.contains(where: PresignedQuery.isPresignMarker) else { throw .multipleAuthenticationMethods }
            let credentials = authorization.dropFirst("AWS ".count)
            guard let colon = credentials.lastIndex(of: ":"), colon != credentials.startIndex,
                credentials.index(after: colon) != credentials.endIndex
            else { throw .malformedAuthorization("expecting 'AWS <access key>:<signature>'") }
            accessKey = String(credentials[..<colon])
            signature = String(credentials[credentials.index(after: colon)...])
            // With x-amz-date the Date line is empty (x-amz-date is signed among the amz headers).
            let time: Int
            if let amzDate = request.value(of: "x-amz-date") {
                guard let parsed = HTTPDate.parse(amzDate) else { throw .malformedDate(amzDate) }
                time = parsed
                dateLine = ""
            } else if let date = request.value(of: "date") {
                guard let parsed = HTTPDate.parse(date) else { throw .malformedDate(date) }
                time = parsed
                dateLine = date
            } else {
                throw .missingDate
            }
            kind = .header(time: time)
        } else {
            func single(_ name: String) throws(SigV4Error) -> String {
                let matches = items.filter { $0.hasName(name) }
                guard matches.count == 1 else {
                    throw matches.isEmpty ? .missingAuthorizationField(name) : .malformedAuthorization("repeated \(name)")
                }
                return matches[0].valueString
            }
            accessKey = try single("AWSAccessKeyId")
            signature = try single("Signature")
            let expires = try single("Expires")
            guard !expires.isEmpty, expires.utf8.count <= 12, expires.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                let seconds = Int(expires)
            else { throw .malformedExpires(expires) }
            kind = .presigned(expires: seconds)
            dateLine = expires
            // A presigning client moves the headers it signed into the query (botocore does).
            for item in items {
                let name = CanonicalRequest.lowercased(item.nameString)
                if name.hasPrefix("x-amz-") {
                    amzHeaders.append((name, item.valueString))
                } else if name == "content-type", contentType.isEmpty {
                    contentType = item.valueString
                } else if name == "content-md5", contentMD5.isEmpty {
                    contentMD5 = item.valueString
                }
            }
        }
        guard !accessKey.isEmpty, !signature.isEmpty else {
            throw .malformedAuthorization("the access key and the signature must not be empty")
        }
        let stringToSign = SigV2.stringToSign(
            method: request.method, contentMD5: contentMD5, contentType: contentType, date: dateLine,
            amzHeaders: amzHeaders, resource: resource)
        var withSlash: String?
        let path = request.rawPath.dropFirst()
        if virtualHostBucket == nil, request.rawPath.hasPrefix("/"), !path.isEmpty, !path.contains("/") {
            let slashResource = SigV2.canonicalResource(bucket: nil, rawPath: request.rawPath + "/", query: query)
            withSlash = SigV2.stringToSign(
                method: request.method, contentMD5: contentMD5, contentType: contentType, date: dateLine,
                amzHeaders: amzHeaders, resource: slashResource)
        }
        return SigV2Claim(
            kind: kind, accessKey: accessKey, signature: signature, stringToSign: stringToSign,
            bucketSlashStringToSign: withSlash)
    }

    /// Header-signed requests must be within ``maxSkew`` of the clock; presigned ones must not be past `Expires`.
    /// Then the signature, in constant time.
    public func verify(_ claim: SigV2Claim, secretKey: String, now: Int) throws(SigV4Error) {
        switch claim.kind {
        case .header(let time):
            guard abs(now - time) <= maxSkew else { throw .requestTimeTooSkewed }
        case .presigned(let expires):
            guard now <= expires else { throw .expired }
        }
        guard
            SigV2.isValidSignature(claim.signature, secretKey: secretKey, message: claim.stringToSign)
                || claim.bucketSlashStringToSign.map({
                    SigV2.isValidSignature(claim.signature, secretKey: secretKey, message: $0)
                }) == true
        else { throw .signatureMismatch }
    }
}
