import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import Foundation
import Glibc
import HTTPTypes
import HummingbirdCore
import NIOCore

/// Depot-signed URLs (`GET /api/storage`, `POST /api/storage/bulk`): a link to one recording that
/// works without keys until it expires. The signature is HMAC-SHA256 over bucket, key and expiry
/// with a key kept in the data directory, so links survive restarts and cannot be forged.
extension VaultService {
    static let defaultURLLifetime: Int64 = 3600

    func signature(bucket: String, key: String, expires: Int64) -> String {
        Hex.encode(HMAC.sha256(key: urlSigningKey, message: "\(bucket)\n\(key)\n\(expires)"))
    }

    func signedURL(_ request: Request, bucket: String, key: String, lifetime: Int64) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let expires = Int64(now.tv_sec) + max(1, min(lifetime, 7 * 86400))
        let host = request.head.authority ?? "127.0.0.1"
        let query =
            "bucket=\(escape(bucket))&key=\(escape(key))&expires=\(expires)&signature=\(signature(bucket: bucket, key: key, expires: expires))"
        return "\(urlScheme)://\(host)/api/storage/signed?\(query)"
    }

    /// Everything but unreserved ASCII as `%XX` (Foundation's `.alphanumerics` let non-ASCII
    /// letters of a key into the URL raw).
    private func escape(_ text: String) -> String { SigV4Encoding.encode(text) }

    func lifetime(_ request: Request) -> Int64 {
        Self.header(request, "X-Kerberos-Storage-Expiry").flatMap(Int64.init) ?? Self.defaultURLLifetime
    }

    /// `GET /api/storage`: `{"data": "<signed URL>"}` for one recording.
    func signedURLResponse(_ request: Request) throws -> Response {
        let (account, key) = try resolveExisting(request)
        return vaultJSON(signedURL(request, bucket: account.vault!.bucket, key: key, lifetime: lifetime(request)))
    }

    /// `POST /api/storage/bulk`: `[{provider, filename, uriExpiryTime}]` → `{"data": {filename: url}}`.
    func bulkSignedURLs(_ request: Request) async throws -> Response {
        let account = try authenticate(request)
        var body = request.body
        let bytes = try await body.collect(upTo: 1 << 20)
        guard let items = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [[String: Any]] else {
            throw VaultError(.badRequest, "expected a JSON array of {provider, filename, uriExpiryTime}")
        }
        var urls: [String: String] = [:]
        for item in items {
            guard let name = item["filename"] as? String else { throw VaultError(.badRequest, "every item needs a filename") }
            let fixed = account.vault!.directory
            let key = name.contains("/") || fixed == "*" ? name : fixed + "/" + name
            // Each item names its provider; an unknown one is refused like on every other call.
            let bucket = try route(account, provider: item["provider"] as? String).account.vault!.bucket
            guard fixed == "*" || key.hasPrefix(fixed + "/"), try engine.headObject(bucket: bucket, key: key) != nil else {
                continue
            }
            let lifetime = (item["uriExpiryTime"] as? NSNumber)?.int64Value ?? Self.defaultURLLifetime
            urls[name] = signedURL(request, bucket: bucket, key: key, lifetime: lifetime)
        }
        return vaultJSON(urls)
    }

    /// `GET /api/storage/signed?…`: the recording, for anyone holding an unexpired, untampered link.
    func serveSigned(_ request: Request) throws -> Response {
        let target = request.head.path ?? ""
        var query: [String: String] = [:]
        for pair in (target.split(separator: "?", maxSplits: 1).dropFirst().first ?? "").split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                SigV4Encoding.decodeUTF8($0, plusAsSpace: false) ?? String($0)
            }
            if parts.count == 2 { query[parts[0]] = parts[1] }
        }
        guard let bucket = query["bucket"], let key = query["key"], let expires = query["expires"].flatMap(Int64.init),
            let given = query["signature"]
        else { throw VaultError(.badRequest, "a signed URL needs bucket, key, expires and signature") }
        guard constantTimeEquals(given, signature(bucket: bucket, key: key, expires: expires)) else {
            throw VaultError(.forbidden, "the signature of this URL is not valid")
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard Int64(now.tv_sec) <= expires else { throw VaultError(.forbidden, "this URL has expired") }
        return try streamRecording(request, bucket: bucket, key: key)
    }
}
