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
/// works without keys until it expires. The signature is HMAC-SHA256 over bucket, expiry, the
/// account that made the link and key, with a key kept in the data directory, so links survive
/// restarts and cannot be forged. A link is made only for an account that may read the recording,
/// and used only while that account still exists and still may (DESIGN "Accounts and access"):
/// removing an account or narrowing its grants also ends the links it handed out. Links made
/// before they carried their account (no `account` in the query) were made without that check and
/// are refused; the caller asks for a new one.
extension VaultService {
    static let defaultURLLifetime: Int64 = 3600

    /// Every field before the key is free of newlines (the account hex-encoded), so the key, last,
    /// cannot be shifted into another field.
    func signature(bucket: String, key: String, expires: Int64, account: String) -> String {
        let message = "\(bucket)\n\(expires)\n\(Hex.encode(Array(account.utf8)))\n\(key)"
        return Hex.encode(HMAC.sha256(key: urlSigningKey, message: message))
    }

    func signedURL(_ request: Request, account: Account, bucket: String, key: String, lifetime: Int64) -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let expires = Int64(now.tv_sec) + max(1, min(lifetime, 7 * 86400))
        let host = request.head.authority ?? "127.0.0.1"
        let query =
            "bucket=\(escape(bucket))&key=\(escape(key))&expires=\(expires)&account=\(escape(account.accessKey))"
            + "&signature=\(signature(bucket: bucket, key: key, expires: expires, account: account.accessKey))"
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
        let (account, key) = try resolveExisting(request, for: .read)
        return vaultJSON(
            signedURL(request, account: account, bucket: account.vault!.bucket, key: key, lifetime: lifetime(request)))
    }

    /// `POST /api/storage/bulk`: `[{provider, filename, uriExpiryTime}]` → `{"data": {filename: url}}`.
    /// A recording that is missing, or that the account may not read, gets no link (the answer
    /// does not say which).
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
            guard fixed == "*" || key.hasPrefix(fixed + "/"), try permits(account, .read, bucket: bucket, key: key),
                try engine.headObject(bucket: bucket, key: key) != nil
            else { continue }
            let lifetime = (item["uriExpiryTime"] as? NSNumber)?.int64Value ?? Self.defaultURLLifetime
            urls[name] = signedURL(request, account: account, bucket: bucket, key: key, lifetime: lifetime)
        }
        return vaultJSON(urls)
    }

    /// `GET /api/storage/signed?…`: the recording, for anyone holding an unexpired, untampered
    /// link whose account still exists, is enabled and may read it.
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
        guard let accessKey = query["account"] else {
            throw VaultError(
                .forbidden, "this URL was made before links carried their account; ask for a new one", code: "AccessDenied")
        }
        guard constantTimeEquals(given, signature(bucket: bucket, key: key, expires: expires, account: accessKey)) else {
            throw VaultError(.forbidden, "the signature of this URL is not valid")
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard Int64(now.tv_sec) <= expires else { throw VaultError(.forbidden, "this URL has expired") }
        guard let account = accounts().first(where: { $0.accessKey == accessKey }), account.vault?.enabled == true else {
            throw VaultError(.forbidden, "the account that made this URL no longer exists or is disabled", code: "AccessDenied")
        }
        try authorize(account, .read, bucket: bucket, key: key)
        return try streamRecording(request, bucket: bucket, key: key)
    }
}
