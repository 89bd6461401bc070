/// What the S3 front door records in the request's `RequestOutcome` (DepotObjectBody, shared
/// with the Vault and admin front doors): the operation, the S3 error code and the access key.

extension S3Request {
    /// The access key the request claims to be signed with, whatever the signature's worth:
    /// for the access log of a request that failed authentication. SigV4 (header or presigned
    /// query) and SigV2 (`AWS key:signature`, `AWSAccessKeyId=`).
    var claimedAccessKey: String? {
        if let authorization = headers[.authorization] {
            if let credential = authorization.range(of: "Credential=") {
                return String(authorization[credential.upperBound...].prefix { $0 != "/" && $0 != "," && $0 != " " })
            }
            if authorization.hasPrefix("AWS "), let colon = authorization.lastIndex(of: ":") {
                return String(authorization[authorization.index(authorization.startIndex, offsetBy: 4)..<colon])
                    .trimmedSpaces()
            }
            return nil
        }
        if let credential = query.first(where: { $0.key.lowercased() == "x-amz-credential" })?.value {
            return String(credential.prefix { $0 != "/" })
        }
        return query["AWSAccessKeyId"]
    }
}
