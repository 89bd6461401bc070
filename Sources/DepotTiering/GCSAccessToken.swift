import AsyncHTTPClient
import DepotConfig
import DepotHashing
import DepotSignedHTTP
import Foundation
import NIOCore
import Synchronization

/// OAuth2 access tokens for a Google service account: a JWT signed with the account's private
/// key (RS256, through OpenSSL) is exchanged at the token endpoint, and the token is reused
/// until a minute before it expires.
final class GCSAccessToken: Sendable {
    let key: ServiceAccountKey
    let tokenURI: String
    let client: HTTPClient
    static let scope = "https://www.googleapis.com/auth/devstorage.read_write"
    /// The current token, or the exchange under way: concurrent copies share one exchange.
    private let cached = Mutex<Task<(token: String, expires: Int64), Error>?>(nil)

    init(key: ServiceAccountKey, tokenURI: String, client: HTTPClient) {
        self.key = key
        self.tokenURI = tokenURI.isEmpty ? key.tokenURI : tokenURI
        self.client = client
    }

    func token() async throws -> String {
        let now = Int64(Date().timeIntervalSince1970)
        let task = cached.withLock { current -> Task<(token: String, expires: Int64), Error> in
            if let current { return current }
            let exchange = Task { try await self.exchange() }
            current = exchange
            return exchange
        }
        do {
            let value = try await task.value
            if value.expires > now { return value.token }
        } catch {
            cached.withLock { if $0 == task { $0 = nil } }
            throw error
        }
        // Expired: start a new exchange (once).
        cached.withLock { if $0 == task { $0 = nil } }
        return try await token()
    }

    private func exchange() async throws -> (token: String, expires: Int64) {
        let now = Int64(Date().timeIntervalSince1970)
        let assertion = try jwt(now: now)
        var request = HTTPClientRequest(url: tokenURI)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        let form = "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=" + assertion
        request.body = .bytes(ByteBuffer(string: form))
        let response = try await client.fetch(request, timeout: .seconds(30), bodyLimit: 1 << 20)
        let object = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        guard response.status == 200, let token = object["access_token"] as? String else {
            throw TierError(
                "the token endpoint \(tokenURI) refused the service account key: HTTP \(response.status) \(response.text.prefix(200))"
            )
        }
        let lifetime = (object["expires_in"] as? NSNumber)?.int64Value ?? 3600
        // Renewed a minute early, so a copy never starts with a token about to lapse.
        return (token, now + max(1, lifetime - 60))
    }

    /// `header.claims.signature`, each part base64url without padding.
    func jwt(now: Int64) throws -> String {
        let header = #"{"alg":"RS256","typ":"JWT"}"#
        let claims: [String: Any] = [
            "iss": key.clientEmail, "scope": Self.scope, "aud": tokenURI, "iat": now, "exp": now + 3600,
        ]
        let claimsJSON = try JSONSerialization.data(withJSONObject: claims, options: [.sortedKeys])
        let signingInput = Self.base64URL(Array(header.utf8)) + "." + Self.base64URL(Array(claimsJSON))
        let signature = try RSASignature.sha256(pemPrivateKey: key.privateKey, message: Array(signingInput.utf8))
        return signingInput + "." + Self.base64URL(signature)
    }

    static func base64URL(_ bytes: [UInt8]) -> String {
        var text = Base64.encode(bytes)
        while text.hasSuffix("=") { text.removeLast() }
        return String(text.map { $0 == "+" ? "-" : $0 == "/" ? "_" : $0 })
    }
}
