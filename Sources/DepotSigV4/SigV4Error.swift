/// Why a request's SigV4 authentication was refused, precise enough for each front door to pick its own error.
///
/// The S3 layer is expected to map these roughly as follows (for a presigned URL, read
/// `AuthorizationQueryParametersError` where `AuthorizationHeaderMalformed` is written):
///
/// - `malformedAuthorization`, `missingAuthorizationField`, `malformedCredential`, `scopeDateMismatch`,
///   `wrongRegion`, `wrongService`, `hostNotSigned`: `AuthorizationHeaderMalformed` (400).
/// - `malformedExpires`: `AuthorizationQueryParametersError` (403, as the conformance suites expect).
/// - `unsupportedAlgorithm`, `multipleAuthenticationMethods`, `invalidContentSHA256`: `InvalidArgument` or
///   `InvalidRequest` (400).
/// - `missingDate`, `malformedDate`, `missingHeader`, `malformedPath`, `malformedQuery`: `AccessDenied` (403) or
///   `InvalidRequest` (400).
/// - `signatureMismatch`: `SignatureDoesNotMatch` (403).
/// - `requestTimeTooSkewed`: `RequestTimeTooSkewed` (403).
/// - `expired`, `notYetValid`: `AccessDenied` (403), "Request has expired" / "Request is not valid yet".
public enum SigV4Error: Error, Sendable, Equatable {
    /// The Authorization header or presigned query does not have the SigV4 shape; the text says what is wrong.
    case malformedAuthorization(String)
    /// Another scheme, such as `AWS4-ECDSA-P256-SHA256` (SigV4a). (`AWS`, Signature Version 2, has its own verifier:
    /// ``SigV2Verifier``; the S3 front door sends such requests there first.)
    case unsupportedAlgorithm(String)
    /// `Credential`, `SignedHeaders` or `Signature` in the header; an `X-Amz-…` parameter in a presigned query.
    case missingAuthorizationField(String)
    /// The credential is not `<access key>/<yyyyMMdd>/<region>/<service>/aws4_request`.
    case malformedCredential(String)
    /// Both an Authorization header and a presigned query were sent.
    case multipleAuthenticationMethods
    /// `X-Amz-Expires` is not a whole number of seconds in 1...604800.
    case malformedExpires(String)
    /// Neither `x-amz-date` nor `Date` is present.
    case missingDate
    /// The request time is not `yyyyMMdd'T'HHmmss'Z'` (or, for `Date`, an HTTP date).
    case malformedDate(String)
    /// The credential scope's day is not the day of the request time.
    case scopeDateMismatch(scope: String, request: String)
    case wrongRegion(expected: String, received: String)
    case wrongService(expected: String, received: String)
    /// A header the request needs (`x-amz-content-sha256`) or one named in SignedHeaders is absent.
    case missingHeader(String)
    /// SigV4 requires `host` among the signed headers.
    case hostNotSigned
    /// `x-amz-content-sha256` is neither a SHA-256 in hex nor one of the known payload modes.
    case invalidContentSHA256(String)
    /// The path holds a `%` not followed by two hex digits.
    case malformedPath
    /// The query string holds a `%` not followed by two hex digits.
    case malformedQuery
    /// The signature does not match what the secret key gives for this request.
    case signatureMismatch
    /// A header-signed request whose time is too far from the server's clock.
    case requestTimeTooSkewed
    /// A presigned URL past its `X-Amz-Date` + `X-Amz-Expires`.
    case expired
    /// A presigned URL whose `X-Amz-Date` is still in the future.
    case notYetValid
}
