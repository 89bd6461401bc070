import DepotConfig
import DepotEngine
import DepotHashing
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

/// The Kerberos Vault front door under `/api/`: what an unmodified Kerberos Agent calls (ping,
/// heartbeat, the legacy POST and tus uploads) and what consumers call (blob, delete, devices,
/// forward). Errors are Vault's `{"data": "…"}` JSON.
public final class VaultService: Sendable {
    let engine: Engine
    let accounts: @Sendable () -> [Account]
    let forward: @Sendable (_ bucket: String, _ key: String) async throws -> Bool
    let logger: Logger
    /// tus uploads larger than this are refused at creation (413).
    let maxUploadSize: UInt64 = 5 << 30
    let urlSigningKey: [UInt8]
    let urlScheme: String
    /// Abandoned uploads are aborted this long after creation (the engine's upload expiry).
    let uploadExpiry: Int64

    public init(
        engine: Engine, accounts: @escaping @Sendable () -> [Account],
        forward: @escaping @Sendable (_ bucket: String, _ key: String) async throws -> Bool = { _, _ in false },
        urlSigningKey: [UInt8], urlScheme: String = "http", uploadExpiry: Int64 = 7 * 86400, logger: Logger
    ) {
        self.uploadExpiry = uploadExpiry
        self.urlSigningKey = urlSigningKey
        self.urlScheme = urlScheme
        self.engine = engine
        self.accounts = accounts
        self.forward = forward
        self.logger = logger
    }

    public func respond(to request: Request, sendContinue: () async throws -> Void) async -> Response {
        let target = request.head.path ?? "/"
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        do {
            switch (request.method, path) {
            case (.get, "/api/health"), (.get, "/api/health/"):
                return vaultJSON("ok")
            case (.post, "/api/ping"):
                _ = try authenticate(request)
                return vaultJSON("pong")
            case (.post, "/api/devices/heartbeat"):
                return try await heartbeat(request)
            case (.get, "/api/devices"):
                _ = try authenticate(request)
                return try devices()
            case (.post, "/api/storage"):
                return try await legacyUpload(request, sendContinue: sendContinue)
            case (.get, "/api/storage/blob"):
                return try blob(request)
            case (.get, "/api/storage"):
                return try signedURLResponse(request)
            case (.post, "/api/storage/bulk"):
                return try await bulkSignedURLs(request)
            case (.get, "/api/storage/signed"):
                return try serveSigned(request)
            case (.delete, "/api/storage"):
                let (account, key) = try resolveExisting(request)
                try await engine.deleteObject(
                    bucket: account.vault!.bucket, key: key, origin: .vault("Delete", principal: account.accessKey))
                return vaultJSON("deleted \(key)")
            case (.post, "/api/storage/forward/media"):
                let (account, key) = try resolveExisting(request)
                guard try await forward(account.vault!.bucket, key) else {
                    throw VaultError(.conflict, "no on-demand policy forwards \(key)")
                }
                return vaultJSON("forward of \(key) queued")
            default:
                if path.hasPrefix("/api/storage/tus") {
                    return try await tus(request, path: path, sendContinue: sendContinue)
                }
                throw VaultError(.notFound, "no such endpoint: \(request.method) \(path)")
            }
        } catch {
            let failure = VaultError.from(error)
            if failure.status == .internalServerError { logger.error("\(request.method) \(path) failed: \(error)") }
            var headers = HTTPFields()
            if path.hasPrefix("/api/storage/tus") { headers[.init("Tus-Resumable")!] = "1.0.0" }
            return vaultJSON(failure.message, status: failure.status, headers: headers)
        }
    }

    /// A header by name, case-insensitively (Go canonicalises names), empty meaning absent.
    static func header(_ request: Request, _ name: String) -> String? {
        guard let field = HTTPField.Name(name), let value = request.headers[field], !value.isEmpty else { return nil }
        return value
    }

    /// The account named by the `X-Kerberos-Storage-AccessKey` / `-SecretAccessKey` headers,
    /// with Vault settings, enabled; secrets compared in constant time.
    func authenticate(_ request: Request) throws -> Account {
        guard let access = Self.header(request, "X-Kerberos-Storage-AccessKey"),
            let secret = Self.header(request, "X-Kerberos-Storage-SecretAccessKey")
        else { throw VaultError(.unauthorized, "missing X-Kerberos-Storage-AccessKey or X-Kerberos-Storage-SecretAccessKey") }
        guard let account = accounts().first(where: { $0.accessKey == access }), account.vault != nil,
            constantTimeEquals(account.secretKey, secret)
        else { throw VaultError(.unauthorized, "account for \(access) and the given secret was not found.") }
        guard account.enabled, account.vault?.enabled == true else {
            throw VaultError(.forbidden, "the account \(account.name) is disabled")
        }
        return account
    }

    /// The object key `{directory}/{filename}`: a fixed directory is the account's, `*` lets
    /// the agent choose with `X-Kerberos-Storage-Directory`.
    func objectKey(account: Account, directory requested: String?, filename: String) throws -> String {
        guard !filename.isEmpty, !filename.contains("/"), filename != ".", filename != ".." else {
            throw VaultError(.badRequest, "X-Kerberos-Storage-FileName must be a file name")
        }
        let fixed = account.vault!.directory
        let directory: String
        if fixed == "*" {
            guard let requested, !requested.isEmpty else { throw VaultError(.badRequest, "missing X-Kerberos-Storage-Directory") }
            directory = requested
        } else {
            if let requested, requested != fixed {
                throw VaultError(.forbidden, "the directory \(requested) is outside this account's directory \(fixed)")
            }
            directory = fixed
        }
        guard !directory.split(separator: "/").contains(".."), !directory.hasPrefix("/") else {
            throw VaultError(.badRequest, "invalid directory \(directory)")
        }
        return directory + "/" + filename
    }

    /// For consumers: FileName is the full key (`directory/file`) or a file in the account's
    /// fixed directory; the account must be allowed to read it.
    func resolveExisting(_ request: Request) throws -> (Account, String) {
        let account = try authenticate(request)
        guard let name = Self.header(request, "X-Kerberos-Storage-FileName") else {
            throw VaultError(.badRequest, "missing X-Kerberos-Storage-FileName")
        }
        let fixed = account.vault!.directory
        let key = name.contains("/") || fixed == "*" ? name : fixed + "/" + name
        if fixed != "*" && !key.hasPrefix(fixed + "/") {
            throw VaultError(.forbidden, "\(key) is outside this account's directory")
        }
        guard try engine.headObject(bucket: account.vault!.bucket, key: key) != nil else {
            throw VaultError(.notFound, "no recording \(key)")
        }
        return (account, key)
    }
}
