import DepotConfig
import DepotSigV4
import Glibc
import HTTPTypes

/// The outcome of authenticating a request: who it is, and what its payload hash promises.
struct VerifiedAuth {
    let account: Account
    let payload: PayloadHash
    /// The SigV4 verification, which seeds the chunk signature chain; nil for Signature Version 2, whose payload is
    /// always unsigned (V2 has no aws-chunked mode).
    let verified: SigV4Verified?

    /// The chain that verifies a signed `aws-chunked` body.
    func chunkSignatureChain() throws -> ChunkSignatureChain {
        guard let verified else {
            throw S3Error("InvalidRequest", .badRequest, "aws-chunked payloads need AWS Signature Version 4.")
        }
        return verified.chunkSignatureChain()
    }
}

extension S3Service {
    /// Verifies the request's signature (SigV4 or SigV2, header or presigned query) before any body byte is
    /// read. A request without any signature is anonymous (`VerifiedAuth.anonymous`): it has no
    /// `allow` list, so only a bucket policy (or an ACL) can admit it (Policy/AccessDecision.swift).
    func authenticate(_ r: S3Request) throws -> VerifiedAuth {
        var headers: [(name: String, value: String)] = []
        headers.reserveCapacity(r.headers.count + 1)
        headers.append(("host", r.authority))
        for field in r.headers { headers.append((field.name.canonicalName, field.value)) }
        let request = SigV4Request(method: r.method.rawValue, rawPath: r.rawPath, rawQuery: r.rawQuery, headers: headers)
        if SigV2Verifier.isSigV2(request) { return try authenticateV2(request, r) }
        let verifier = SigV4Verifier(region: settings.region, service: "s3", maxSkew: Int(settings.maxClockSkew))
        do {
            guard let claim = try verifier.claim(of: request) else { return .anonymous }
            guard let account = accounts.account(accessKey: claim.accessKey), account.enabled else {
                throw S3Error.invalidAccessKeyId()
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            let verified = try verifier.verify(claim, secretKey: account.secretKey, now: Int(now.tv_sec))
            return VerifiedAuth(account: account, payload: verified.payload, verified: verified)
        } catch let error as SigV4Error {
            throw Self.map(error, presigned: PresignedQuery.isPresigned(rawQuery: r.rawQuery))
        }
    }

    /// Signature Version 2 (MinIO accepts it; s3cmd, awscli v1 presigned URLs and old browser forms use it).
    /// The payload is unsigned; a `Content-MD5` is signed and the body path checks it.
    private func authenticateV2(_ request: SigV4Request, _ r: S3Request) throws -> VerifiedAuth {
        let verifier = SigV2Verifier(maxSkew: Int(settings.maxClockSkew))
        let presigned = request.values(of: "authorization").isEmpty
        do {
            let claim = try verifier.claim(of: request, virtualHostBucket: virtualHostBucket(r))
            guard let account = accounts.account(accessKey: claim.accessKey), account.enabled else {
                throw S3Error.invalidAccessKeyId()
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            do {
                try verifier.verify(claim, secretKey: account.secretKey, now: Int(now.tv_sec))
            } catch SigV4Error.signatureMismatch {
                var error = S3Error.signatureDoesNotMatch()
                error.details.append(("StringToSign", claim.stringToSign))
                error.details.append(("SignatureProvided", claim.signature))
                error.details.append(("AWSAccessKeyId", claim.accessKey))
                throw error
            }
            return VerifiedAuth(account: account, payload: .unsigned, verified: nil)
        } catch let error as SigV4Error {
            switch error {
            case .missingAuthorizationField, .malformedExpires:
                throw S3Error.accessDenied(
                    "Query-string authentication requires the Signature, Expires and AWSAccessKeyId parameters")
            default:
                throw Self.map(error, presigned: presigned)
            }
        }
    }

    /// The bucket named by the Host header, when the request uses virtual-host style: V2's canonical resource
    /// starts with it.
    private func virtualHostBucket(_ r: S3Request) -> String? {
        guard let bucket = r.bucket, !settings.domain.isEmpty else { return nil }
        var host = r.authority.lowercased()
        if let colon = host.lastIndex(of: ":"), !host.hasSuffix("]") { host = String(host[..<colon]) }
        return host == bucket.lowercased() + "." + settings.domain.lowercased() ? bucket : nil
    }

    /// The S3 error for a refused SigV4 signature (also the admin API's error code in its log).
    public static func map(_ error: SigV4Error, presigned: Bool) -> S3Error {
        let malformed = presigned ? "AuthorizationQueryParametersError" : "AuthorizationHeaderMalformed"
        switch error {
        case .wrongRegion(let expected, let received):
            return S3Error(
                malformed, .badRequest,
                "The authorization header is malformed; the region '\(received)' is wrong; expecting '\(expected)'",
                details: [("Region", expected)])
        case .malformedAuthorization(let s), .missingAuthorizationField(let s), .malformedCredential(let s):
            return S3Error(malformed, .badRequest, "The authorization header is malformed: \(s)")
        case .scopeDateMismatch(let scope, let request):
            return S3Error(malformed, .badRequest, "The credential date \(scope) does not match the request date \(request)")
        case .wrongService(let expected, let received):
            return S3Error(malformed, .badRequest, "The credential names service '\(received)'; expecting '\(expected)'")
        case .hostNotSigned:
            return S3Error(malformed, .badRequest, "The host header must be among the signed headers")
        case .malformedExpires(let s):
            // AWS's code and messages; the status is 403, as the conformance suites (s3-tests
            // test_object_raw_get_x_amz_expires_out_*) expect for 0, negative and over-a-week values.
            let message: String
            if s.hasPrefix("-") {
                message = "X-Amz-Expires must be non-negative"
            } else if !s.isEmpty, s.allSatisfy(\.isASCII), s.allSatisfy(\.isNumber), Int(s) != 0 {
                // All digits and not 0: over a week (however many digits).
                message = "X-Amz-Expires must be less than a week (in seconds) that is 604800 seconds"
            } else {
                message = "X-Amz-Expires must be a number of seconds from 1 to 604800, not '\(s)'"
            }
            return S3Error("AuthorizationQueryParametersError", .forbidden, message)
        case .unsupportedAlgorithm:
            return S3Error(
                "InvalidRequest", .badRequest,
                "The authorization mechanism you have provided is not supported. Please use AWS4-HMAC-SHA256 (Signature Version 4)."
            )
        case .multipleAuthenticationMethods:
            return S3Error(
                "InvalidArgument", .badRequest,
                "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified"
            )
        case .invalidContentSHA256(let value):
            return S3Error(
                "InvalidArgument", .badRequest,
                "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, a streaming mode or a SHA-256 in hex, not '\(value)'")
        case .missingDate:
            return S3Error.accessDenied("AWS authentication requires a valid Date or x-amz-date header")
        case .malformedDate(let s):
            return S3Error.accessDenied("The date '\(s)' is not valid")
        case .missingHeader(let s):
            return S3Error("InvalidRequest", .badRequest, "Missing required header for this request: \(s)")
        case .malformedPath, .malformedQuery:
            return S3Error.invalidArgument("The request URI is not valid percent-encoding.")
        case .signatureMismatch:
            return S3Error.signatureDoesNotMatch()
        case .requestTimeTooSkewed:
            return S3Error(
                "RequestTimeTooSkewed", .forbidden, "The difference between the request time and the server's time is too large.")
        case .expired:
            return S3Error.accessDenied("Request has expired")
        case .notYetValid:
            return S3Error.accessDenied("Request is not valid yet")
        }
    }
}
