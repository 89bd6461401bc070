import DepotConfig
import DepotSigV4
import Glibc

/// Links to the S3 door signed with the signed-in account's own keys (SigV4 query presigning):
/// the browser's `<video>` fetches the recording with Range requests straight from the S3 door,
/// which checks the signature and the access rule itself, so a link edited to name another key
/// is refused there (its signature no longer matches), and no account can sign more than it may do.
enum PresignedLinks {
    /// Long enough to watch a long recording with pauses; a page reload signs a fresh one.
    static let expirySeconds = 3600

    /// The path and query (`/bucket/key?X-Amz-...`) for `method` on the object, valid at `host`.
    static func url(
        method: String, bucket: String, key: String, account: Account, host: String, region: String,
        parameters: [(String, String)] = [], signedHeaders: [(String, String)] = []
    ) throws -> String {
        let path = "/" + SigV4Encoding.encodePath(bucket) + "/" + SigV4Encoding.encodePath(key)
        let rawQuery = SigV4Encoding.queryString(parameters)
        let signer = SigV4Signer(
            credentials: SigV4Credentials(accessKey: account.accessKey, secretKey: account.secretKey), region: region,
            service: "s3")
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let query = try signer.presign(
            SigV4Request(method: method, rawPath: path, rawQuery: rawQuery, headers: [("host", host)] + signedHeaders.map { (name: $0.0, value: $0.1) }),
            expires: expirySeconds, time: Int(now.tv_sec))
        return path + "?" + query
    }
}
