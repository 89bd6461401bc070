import DepotEngine
import DepotObjectBody
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore

/// A Vault API error: `{"data": "…"}` with its HTTP status, as Vault answers.
struct VaultError: Error, Sendable {
    let status: HTTPResponse.Status
    let message: String
    /// A short name for the access log (Vault's JSON has only the message): the status's reason
    /// without spaces (`NotFound`), or a precise one where the status alone does not tell an
    /// admin what went wrong (an unknown access key and a wrong secret are both 401).
    let code: String

    init(_ status: HTTPResponse.Status, _ message: String, code: String? = nil) {
        self.status = status
        self.message = message
        self.code = code ?? RequestOutcome.errorCode(status: status.code, reasonPhrase: status.reasonPhrase)
    }

    static func from(_ error: Error) -> VaultError {
        if let e = error as? VaultError { return e }
        if let slow = error as? TransferTooSlow { return VaultError(.requestTimeout, slow.description) }
        guard let e = (error as? EngineError) ?? EngineError.indexFailure(error) else {
            return VaultError(.internalServerError, "\(error)")
        }
        switch e {
        case .noSuchBucket, .noSuchKey, .noSuchUpload, .noSuchVersion: return VaultError(.notFound, e.description)
        case .keyTooLong, .invalidBucketName, .invalidRequest, .invalidPart, .invalidPartOrder, .entityTooSmall, .deleteMarkerSource, .deleteMarkerTarget:
            return VaultError(.badRequest, e.description)
        case .noSpace: return VaultError(.init(code: 507), e.description)
        case .quotaExceeded: return VaultError(.forbidden, e.description, code: "QuotaExceeded")
        case .objectLocked: return VaultError(.forbidden, e.description, code: "ObjectLocked")
        case .preconditionFailed, .bucketAlreadyExists, .bucketAlreadyOwnedByYou, .bucketNotEmpty:
            return VaultError(.conflict, e.description)
        case .shuttingDown, .outboxFull, .chunkStoreUnavailable, .indexUnavailable: return VaultError(.serviceUnavailable, e.description)
        case .invalidObjectState(let key):
            // Evicted after a transition and no tier can serve it now: say so, never send it empty.
            return VaultError(.serviceUnavailable, "the recording \(key) is held on a tier that cannot serve it now")
        default: return VaultError(.internalServerError, e.description)
        }
    }
}

/// `{"data": value}` as JSON.
func vaultJSON(_ value: Any, status: HTTPResponse.Status = .ok, headers extra: HTTPFields = [:]) -> Response {
    let data = (try? JSONSerialization.data(withJSONObject: ["data": value], options: [.sortedKeys])) ?? Data("{}".utf8)
    var headers = extra
    headers[.contentType] = "application/json"
    headers[.contentLength] = String(data.count)
    return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
}
