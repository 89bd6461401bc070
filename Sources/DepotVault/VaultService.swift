import DepotConfig
import DepotEngine
import DepotHashing
import DepotObjectBody
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
    /// Whether the bucket's policy explicitly denies the account an S3 action (`s3:PutObject`...)
    /// on a key (nil: the bucket); an unreadable policy denies (VaultAuthorization.swift).
    let policyDenies: @Sendable (_ account: Account, _ action: String, _ bucket: String, _ key: String?) throws -> Bool
    let logger: Logger
    /// Recordings larger than this are refused (413): a tus upload at creation (`Tus-Max-Size`
    /// says it), a legacy POST by its Content-Length or as soon as its body grows past it. The
    /// smaller of 5 GiB and `server.maxObjectSize`.
    let maxUploadSize: UInt64
    let urlSigningKey: [UInt8]
    let urlScheme: String
    /// Abandoned uploads are aborted this long after creation (the engine's upload expiry).
    let uploadExpiry: Int64
    /// tus uploads with a PATCH or DELETE in progress: this process's (VaultTusLimits.swift), or
    /// the cluster's in cluster mode (any node may serve the next PATCH).
    let tusLocks: any UploadLocks

    public init(
        engine: Engine, accounts: @escaping @Sendable () -> [Account],
        forward: @escaping @Sendable (_ bucket: String, _ key: String) async throws -> Bool = { _, _ in false },
        policyDenies:
            @escaping @Sendable (_ account: Account, _ action: String, _ bucket: String, _ key: String?) throws ->
            Bool,
        urlSigningKey: [UInt8], urlScheme: String = "http", uploadExpiry: Int64 = 7 * 86400,
        maxObjectSize: UInt64 = 5 << 40, uploadLocks: (any UploadLocks)? = nil, logger: Logger
    ) {
        self.tusLocks = uploadLocks ?? TusUploadLocks()
        self.maxUploadSize = min(5 << 30, maxObjectSize)
        self.uploadExpiry = uploadExpiry
        self.urlSigningKey = urlSigningKey
        self.urlScheme = urlScheme
        self.engine = engine
        self.accounts = accounts
        self.forward = forward
        self.policyDenies = policyDenies
        self.logger = logger
    }

    /// One Vault operation. `path` is exact, or ends in `/{id}` for a tus upload. `operation` is
    /// its name in metrics and the access log (a bounded set, never taken from the request).
    public struct Route: Sendable {
        public let method: HTTPRequest.Method
        public let path: String
        public let operation: String
        let handler: @Sendable (VaultService, Request) async throws -> Response

        func matches(_ method: HTTPRequest.Method, _ requestPath: String) -> Bool {
            guard method == self.method else { return false }
            if path.hasSuffix("/{id}") {
                let base = String(path.dropLast("/{id}".count)) + "/"
                return requestPath.hasPrefix(base) && requestPath.count > base.count
                    && !requestPath.dropFirst(base.count).contains("/")
            }
            return requestPath == path || requestPath == path + "/"
        }
    }

    /// Every Vault operation: the router, metrics and the access log, and the OpenAPI document's
    /// check all read this list. A method and path not in it is refused (404 or 405).
    public static let routes: [Route] =
        [
            Route(method: .get, path: "/api/health", operation: "Health") { _, _ in vaultJSON("ok") },
            Route(method: .post, path: "/api/ping", operation: "Ping") { vault, request in
                _ = try vault.authenticate(request)
                return vaultJSON("pong")
            },
            Route(method: .post, path: "/api/devices/heartbeat", operation: "Heartbeat") { vault, request in
                try await vault.heartbeat(request)
            },
            Route(method: .get, path: "/api/devices", operation: "Devices") { vault, request in
                try vault.devices(of: try vault.authenticate(request))
            },
            Route(method: .post, path: "/api/storage", operation: "Upload") { vault, request in
                try await vault.legacyUpload(request)
            },
            Route(method: .get, path: "/api/storage/blob", operation: "Blob") { vault, request in try vault.blob(request) },
            Route(method: .get, path: "/api/storage", operation: "SignedURL") { vault, request in
                try vault.signedURLResponse(request)
            },
            Route(method: .post, path: "/api/storage/bulk", operation: "BulkSignedURLs") { vault, request in
                try await vault.bulkSignedURLs(request)
            },
            Route(method: .get, path: "/api/storage/signed", operation: "SignedDownload") { vault, request in
                try vault.serveSigned(request)
            },
            Route(method: .delete, path: "/api/storage", operation: "Delete") { vault, request in
                let (account, key) = try vault.resolveExisting(request, for: .delete)
                try await vault.engine.deleteObject(
                    bucket: account.vault!.bucket, key: key, origin: .vault("Delete", principal: account.accessKey))
                return vaultJSON("deleted \(key)")
            },
            Route(method: .post, path: "/api/storage/forward/media", operation: "Forward") { vault, request in
                // Read on the recording is what forwarding needs: it only makes the copies the
                // operator's on-demand policies already name (as `depot replicate` does), to
                // tiers the caller cannot choose, and sends no bytes to the caller. An account
                // that may read a recording may ask for it to be kept where policy says.
                let (account, key) = try vault.resolveExisting(request, for: .read)
                guard try await vault.forward(account.vault!.bucket, key) else {
                    throw VaultError(.conflict, "no on-demand policy forwards \(key)")
                }
                return vaultJSON("forward of \(key) queued")
            },
        ]
        + [(HTTPRequest.Method.options, "TusOptions"), (.post, "TusCreate")].map { method, operation in
            Route(method: method, path: "/api/storage/tus", operation: operation) { vault, request in
                try await vault.tus(request, path: "/api/storage/tus")
            }
        }
        + [(HTTPRequest.Method.head, "TusHead"), (.patch, "TusPatch"), (.delete, "TusDelete"), (.options, "TusOptions")]
        .map { method, operation in
            Route(method: method, path: "/api/storage/tus/{id}", operation: operation) { vault, request in
                let target = request.head.path ?? "/"
                let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
                return try await vault.tus(request, path: path)
            }
        }

    public func respond(to request: Request) async -> Response {
        let target = request.head.path ?? "/"
        let path = String(target.split(separator: "?", maxSplits: 1).first ?? "")
        // For the access log: the key presented, whether or not its secret turns out right.
        let outcome = RequestOutcome.current
        outcome?.record { $0.accessKey = Self.header(request, "X-Kerberos-Storage-AccessKey") }
        do {
            guard let route = Self.routes.first(where: { $0.matches(request.method, path) }) else {
                if Self.routes.contains(where: { $0.matches($0.method, path) }) {
                    throw VaultError(.methodNotAllowed, "\(request.method) is not an operation on \(path)")
                }
                throw VaultError(.notFound, "no such endpoint: \(request.method) \(path)")
            }
            outcome?.record { $0.operation = route.operation }
            return try await route.handler(self, request)
        } catch {
            let failure = VaultError.from(error)
            outcome?.record { $0.errorCode = failure.code }
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
        else {
            throw VaultError(
                .unauthorized, "missing X-Kerberos-Storage-AccessKey or X-Kerberos-Storage-SecretAccessKey",
                code: "MissingCredentials")
        }
        // One message for both, as Vault answers; the access log's code tells them apart.
        let notFound = "account for \(access) and the given secret was not found."
        guard let account = accounts().first(where: { $0.accessKey == access }), account.vault != nil else {
            throw VaultError(.unauthorized, notFound, code: "UnknownAccessKey")
        }
        guard constantTimeEquals(account.secretKey, secret) else {
            throw VaultError(.unauthorized, notFound, code: "WrongSecretKey")
        }
        RequestOutcome.current?.record { $0.account = account.name }
        guard account.enabled, account.vault?.enabled == true else {
            throw VaultError(.forbidden, "the account \(account.name) is disabled", code: "AccountDisabled")
        }
        return account
    }

    /// The object key `{directory}/{filename}`: a fixed directory is the account's and forces
    /// every upload into it whatever directory the agent names (Vault's documented behaviour);
    /// `*` lets the agent choose with `X-Kerberos-Storage-Directory`.
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
            directory = fixed
        }
        guard !directory.split(separator: "/").contains(".."), !directory.hasPrefix("/") else {
            throw VaultError(.badRequest, "invalid directory \(directory)")
        }
        RequestOutcome.current?.record {
            $0.bucket = account.vault?.bucket
            $0.key = directory + "/" + filename
        }
        return directory + "/" + filename
    }

    /// For consumers: FileName is the full key (`directory/file`) or a file in the account's
    /// fixed directory; the account must be allowed `action` on it (checked before whether it
    /// exists, so a refusal does not tell whether the key is there, as S3 does). The returned
    /// account is routed through the provider the request names (`route`), so its bucket is that
    /// provider's.
    func resolveExisting(_ request: Request, for action: Action) throws -> (Account, String) {
        let account = try route(try authenticate(request), provider: Self.header(request, "X-Kerberos-Storage-Provider")).account
        guard let name = Self.header(request, "X-Kerberos-Storage-FileName") else {
            throw VaultError(.badRequest, "missing X-Kerberos-Storage-FileName")
        }
        let fixed = account.vault!.directory
        let key = name.contains("/") || fixed == "*" ? name : fixed + "/" + name
        if fixed != "*" && !key.hasPrefix(fixed + "/") {
            throw VaultError(.forbidden, "\(key) is outside this account's directory", code: "AccessDenied")
        }
        RequestOutcome.current?.record {
            $0.bucket = account.vault?.bucket
            $0.key = key
        }
        try authorize(account, action, bucket: account.vault!.bucket, key: key)
        guard try engine.headObject(bucket: account.vault!.bucket, key: key) != nil else {
            throw VaultError(.notFound, "no recording \(key)")
        }
        return (account, key)
    }
}
