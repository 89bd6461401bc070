import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

/// The Kerberos Vault front door under `/api/`: what an unmodified Kerberos Agent calls.
public final class VaultService: Sendable {
    let engine: Engine
    let accounts: @Sendable () -> [Account]
    let logger: Logger

    public init(engine: Engine, accounts: @escaping @Sendable () -> [Account], logger: Logger) {
        self.engine = engine
        self.accounts = accounts
        self.logger = logger
    }

    /// Answers one request under `/api/`. `sendContinue` as in the S3 front door.
    public func respond(to request: Request, sendContinue: () async throws -> Void) async -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: .notFound, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: "{\"data\":\"not found\"}")))
    }
}
