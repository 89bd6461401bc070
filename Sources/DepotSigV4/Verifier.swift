import DepotHashing

/// One HTTP header field; a plain tuple so that any HTTP library's headers convert with a `map`.
public typealias SigV4Header = (name: String, value: String)

/// A request in the only form SigV4 needs, whoever's HTTP types it came from.
public struct SigV4Request: Sendable {
    public var method: String
    /// The path exactly as on the wire, still percent-encoded, without the query.
    public var rawPath: String
    /// The query string exactly as on the wire, without the `?`; empty when there is none.
    public var rawQuery: String
    /// Every header, names in any case, repeated names allowed. Must include `host` (for HTTP/2, the authority).
    public var headers: [SigV4Header]

    public init(method: String, rawPath: String, rawQuery: String = "", headers: [SigV4Header]) {
        self.method = method
        self.rawPath = rawPath
        self.rawQuery = rawQuery
        self.headers = headers
    }

    /// The values of every header with this name, in any case, in arrival order.
    public func values(of name: String) -> [String] {
        headers.filter { CanonicalRequest.equalIgnoringASCIICase($0.name, name) }.map(\.value)
    }

    /// The first value of a header, trimmed.
    public func value(of name: String) -> String? {
        firstValue(of: name).map { CanonicalRequest.trimmedHeaderValue($0) }
    }

    /// The first value of a header, as sent; no array of all of them.
    func firstValue(of name: String) -> String? {
        headers.first { CanonicalRequest.equalIgnoringASCIICase($0.name, name) }?.value
    }

    /// How many headers have this name (any case), counting no further than `limit`.
    func count(of name: String, upTo limit: Int) -> Int {
        var count = 0
        for header in headers where CanonicalRequest.equalIgnoringASCIICase(header.name, name) {
            count += 1
            if count >= limit { break }
        }
        return count
    }
}

/// What a request claims about who signed it and when, parsed from the Authorization header or the presigned query.
/// Nothing in it is trusted until ``SigV4Verifier/verify(_:secretKey:now:)`` succeeds.
public struct SigV4Claim: Sendable {
    public enum Kind: Sendable, Equatable {
        case header
        case presigned(expires: Int)
    }

    public let kind: Kind
    /// The key to look the account up by; an unknown one is S3's `InvalidAccessKeyId`.
    public let accessKey: String
    public let scope: CredentialScope
    /// From `x-amz-date` (or `Date`) or `X-Amz-Date`; compare with the clock through ``checkTime(now:maxSkew:)``.
    public let time: AmzDate
    public let signedHeaders: [String]
    /// Lower-case hex; for streaming uploads, the seed of the chunk signature chain.
    public let signature: String
    /// The last line of the canonical request, as the client signed it.
    public let payloadHashValue: String
    public let payload: PayloadHash
    /// `x-amz-security-token` / `X-Amz-Security-Token`, for temporary credentials.
    public let securityToken: String?
    let request: SigV4Request
    let queryItems: [QueryItem]

    /// Header-signed requests must be within `maxSkew` seconds of the server clock (S3 allows 15 minutes); presigned
    /// URLs are valid from their time (with the same tolerance for clocks running ahead) until it plus `expires`.
    public func checkTime(now: Int, maxSkew: Int = 900) throws(SigV4Error) {
        switch kind {
        case .header:
            guard abs(now - time.unixSeconds) <= maxSkew else { throw .requestTimeTooSkewed }
        case .presigned(let expires):
            guard time.unixSeconds - now <= maxSkew else { throw .notYetValid }
            guard now <= time.unixSeconds + expires else { throw .expired }
        }
    }
}

/// A request whose signature checked out, with what the body decoder needs next.
public struct SigV4Verified: Sendable {
    public let claim: SigV4Claim
    /// The day's key for this scope, to verify chunk and trailer signatures.
    public let signingKey: SigningKey

    public var accessKey: String { claim.accessKey }
    public var payload: PayloadHash { claim.payload }

    /// The chain that verifies an `aws-chunked` body, seeded with the request signature.
    public func chunkSignatureChain() -> ChunkSignatureChain {
        ChunkSignatureChain(
            signingKey: signingKey, time: claim.time, scope: claim.scope, seedSignature: claim.signature)
    }
}

/// Verifies incoming SigV4 requests in two steps, so the caller can look the access key up in between:
/// ``claim(of:)`` parses and checks the shape without any secret, ``verify(_:secretKey:now:)`` checks the time and
/// recomputes the signature.
public struct SigV4Verifier: Sendable {
    /// When set, a scope naming another region is refused (as S3 does with `AuthorizationHeaderMalformed`).
    public let region: String?
    public let service: String
    /// Allowed difference between the request time and the server clock, in seconds.
    public let maxSkew: Int
    private let keyCache: SigningKeyCache

    public init(region: String? = nil, service: String = "s3", maxSkew: Int = 900, keyCache: SigningKeyCache = .shared) {
        self.region = region
        self.service = service
        self.maxSkew = maxSkew
        self.keyCache = keyCache
    }

    /// Parses the request's SigV4 authentication; nil when the request carries none (anonymous).
    /// Requires `x-amz-content-sha256` on header-signed requests, as S3 does.
    public func claim(of request: SigV4Request) throws(SigV4Error) -> SigV4Claim? {
        guard let items = SigV4Encoding.parseQuery(request.rawQuery) else { throw .malformedQuery }
        let presigned = items.contains(where: PresignedQuery.isPresignMarker)
        guard let authorization = request.firstValue(of: "authorization") else {
            if presigned { return try presignedClaim(request, items) }
            if items.contains(where: { $0.hasName("AWSAccessKeyId") }) { throw .unsupportedAlgorithm("AWS") }
            return nil
        }
        guard !presigned else { throw .multipleAuthenticationMethods }
        guard request.count(of: "authorization", upTo: 2) == 1 else {
            throw .malformedAuthorization("more than one Authorization header")
        }
        let header = try AuthorizationHeader(parsing: authorization)
        let time: AmzDate
        if let amzDate = request.value(of: "x-amz-date") {
            guard let parsed = AmzDate(iso8601Basic: amzDate) else { throw .malformedDate(amzDate) }
            time = parsed
        } else if let date = request.value(of: "date") {
            guard let parsed = AmzDate(httpDate: date) else { throw .malformedDate(date) }
            time = parsed
        } else {
            throw .missingDate
        }
        guard let payloadValue = request.value(of: "x-amz-content-sha256") else {
            throw .missingHeader("x-amz-content-sha256")
        }
        guard let payload = PayloadHash(payloadValue) else { throw .invalidContentSHA256(payloadValue) }
        try check(scope: header.scope, time: time, signedHeaders: header.signedHeaders)
        return SigV4Claim(
            kind: .header, accessKey: header.accessKey, scope: header.scope, time: time,
            signedHeaders: header.signedHeaders, signature: header.signature, payloadHashValue: payloadValue,
            payload: payload, securityToken: request.value(of: "x-amz-security-token"), request: request,
            queryItems: items)
    }

    /// Checks the time, then the signature, in constant time.
    public func verify(_ claim: SigV4Claim, secretKey: String, now: Int) throws(SigV4Error) -> SigV4Verified {
        try claim.checkTime(now: now, maxSkew: maxSkew)
        let stringToSign = try stringToSignBytes(of: claim)
        let key = keyCache.key(secretKey: secretKey, scope: claim.scope)
        guard key.isValidSignature(claim.signature, ofBytes: stringToSign) else { throw .signatureMismatch }
        return SigV4Verified(claim: claim, signingKey: key)
    }

    /// The string to sign of a claim, as bytes: the canonical request is written into one buffer and hashed, and
    /// the string to sign is written into the same buffer.
    func stringToSignBytes(of claim: SigV4Claim) throws(SigV4Error) -> [UInt8] {
        var bytes = [UInt8]()
        try appendCanonicalRequest(of: claim, to: &bytes)
        // Hashed into 32 bytes on the stack (DigestAlgorithm.sha256(_:into:)): no EVP context, no arrays.
        withUnsafeTemporaryAllocation(byteCount: 32, alignment: 8) { hash in
            bytes.withUnsafeBytes { DigestAlgorithm.sha256($0, into: hash) }
            bytes.removeAll(keepingCapacity: true)
            CanonicalBytes.appendStringToSign(
                time: claim.time, scope: claim.scope, canonicalRequestHash: UnsafeRawBufferPointer(hash), to: &bytes)
        }
        return bytes
    }

    /// The canonical request of a claim, as bytes. ``canonicalRequest(of:)`` gives the same text as strings,
    /// from the same writer.
    func appendCanonicalRequest(of claim: SigV4Claim, to bytes: inout [UInt8]) throws(SigV4Error) {
        bytes.reserveCapacity(
            bytes.count + 512 + claim.request.rawPath.utf8.count + claim.request.rawQuery.utf8.count
                + claim.signedHeaders.count * 64)
        try CanonicalBytes.appendCanonicalRequest(
            method: claim.request.method, rawPath: claim.request.rawPath, queryItems: claim.queryItems,
            headers: claim.request.headers, signedHeaders: claim.signedHeaders, payloadHash: claim.payloadHashValue,
            pathStyle: pathStyle, excluding: excludedQueryParameters(claim), to: &bytes)
    }

    /// The canonical request the client should have signed: for logs and for S3's `SignatureDoesNotMatch` details.
    public func canonicalRequest(of claim: SigV4Claim) throws(SigV4Error) -> CanonicalRequest {
        try CanonicalRequest(
            method: claim.request.method, rawPath: claim.request.rawPath, queryItems: claim.queryItems,
            headers: claim.request.headers, signedHeaders: claim.signedHeaders, payloadHash: claim.payloadHashValue,
            pathStyle: pathStyle, excluding: excludedQueryParameters(claim))
    }

    private var pathStyle: PathStyle { service == "s3" ? .s3 : .doubleEncoded }

    /// A presigned URL's own signature is not part of what it signs.
    private func excludedQueryParameters(_ claim: SigV4Claim) -> Set<String> {
        claim.kind == .header ? [] : ["X-Amz-Signature"]
    }

    private func presignedClaim(_ request: SigV4Request, _ items: [QueryItem]) throws(SigV4Error) -> SigV4Claim {
        let query = try PresignedQuery(items: items)
        let payloadValue = query.contentSHA256 ?? PayloadHash.unsignedValue
        guard let payload = PayloadHash(payloadValue) else { throw .invalidContentSHA256(payloadValue) }
        try check(scope: query.scope, time: query.time, signedHeaders: query.signedHeaders)
        return SigV4Claim(
            kind: .presigned(expires: query.expires), accessKey: query.accessKey, scope: query.scope, time: query.time,
            signedHeaders: query.signedHeaders, signature: query.signature, payloadHashValue: payloadValue,
            payload: payload, securityToken: query.securityToken, request: request, queryItems: items)
    }

    private func check(scope: CredentialScope, time: AmzDate, signedHeaders: [String]) throws(SigV4Error) {
        guard time.isOnDay(scope.date) else {
            throw .scopeDateMismatch(scope: scope.date, request: time.dateStamp)
        }
        if let region, scope.region != region { throw .wrongRegion(expected: region, received: scope.region) }
        guard scope.service == service else { throw .wrongService(expected: service, received: scope.service) }
        guard signedHeaders.contains(where: { CanonicalRequest.equalIgnoringASCIICase($0, "host") }) else {
            throw .hostNotSigned
        }
    }
}
