import DepotCluster
import DepotConfig
import DepotEngine
import DepotEvents
import DepotHashing
import DepotObjectBody
import DepotS3
import DepotSigV4
import DepotTiering
import Foundation
import Glibc
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The admin API under `/admin/v1/`: JSON, authenticated by SigV4 with an account that has the
/// `admin` action, so the same keys and tools work as for S3. The operations live in one file
/// per resource (`AdminTiers`, `AdminPolicies`, …); this file routes, authenticates and turns
/// failures into JSON errors that name the field at fault.
struct AdminAPI: Sendable {
    let engine: Engine
    let accounts: AccountStore
    let tiering: TieringService
    let events: EventDispatcher
    let runtime: RuntimeConfiguration
    let started: Int64
    /// Reads the configuration file again; nil when the server runs on the embedded default.
    let reloader: (@Sendable () async throws -> [String])?
    /// Live requests for `GET /admin/v1/trace` (AdminTrace.swift).
    var trace = TraceHub()
    /// Cluster mode: this node's registration, through which `GET /admin/v1/cluster` reads the
    /// registry (nil: embedded).
    var cluster: NodeHeartbeat? = nil
    var configuration: DepotConfiguration { runtime.current }

    /// Every admin operation. The OpenAPI document and its test are checked against this list.
    static let routes: [AdminRoute] =
        serverRoutes + tierRoutes + policyRoutes + accountRoutes + bucketRoutes + replicationRoutes + eventRoutes + sinkRoutes
        + traceRoutes + clusterRoutes

    func respond(to request: Request) async -> Response {
        let target = request.head.path ?? "/"
        let question = target.firstIndex(of: "?")
        let path = String(question.map { target[..<$0] } ?? target[...])
        let query = question.map { String(target[target.index(after: $0)...]) } ?? ""
        let endpoint = AdminEndpoint(method: request.method, path: path)
        if case .route(let route, _) = endpoint { RequestOutcome.current?.record { $0.operation = route.operation } }
        do {
            try authenticate(request)
            switch endpoint {
            case .methodNotAllowed:
                throw AdminFailure(.methodNotAllowed, "\(request.method) is not an operation on \(path)")
            case .notFound:
                throw AdminFailure(.notFound, "no admin operation \(request.method) \(path)")
            case .route(let route, let parameters):
                var body = request.body
                let bytes = try await body.collect(upTo: 1 << 20)
                // The signature covers the body through x-amz-content-sha256: check it matches.
                if let declared = request.headers[HTTPField.Name("x-amz-content-sha256")!], declared.count == 64,
                    Hex.encode(DigestAlgorithm.sha256.hash(Array(bytes.readableBytesView))) != declared.lowercased()
                {
                    throw AdminFailure(.badRequest, "the body does not match x-amz-content-sha256")
                }
                let call = AdminRequest(
                    parameters: parameters, query: AdminRequest.parseQuery(query), body: Array(bytes.readableBytesView))
                let reply = try await route.handler(self, call)
                if let response = reply.response { return response }
                return json(reply.body, status: reply.status)
            }
        } catch let failure as AdminFailure {
            return errorResponse(failure)
        } catch let error as ConfigError {
            let field = error.path.hasPrefix(".") ? String(error.path.dropFirst()) : error.path
            return errorResponse(AdminFailure(.badRequest, error.message, field: field))
        } catch let error as EngineError {
            return errorResponse(Self.failure(error))
        } catch {
            // Cluster mode's index unreachable (or conflicting past its retries): a retry may work.
            if let unavailable = EngineError.indexFailure(error) { return errorResponse(Self.failure(unavailable)) }
            return errorResponse(AdminFailure(.internalServerError, "\(error)"))
        }
    }

    /// An engine error that says "retry later" (the cluster index or chunk store away, shutting
    /// down) is 503 with Retry-After, as the S3 door answers it; any other is a server fault.
    static func failure(_ error: EngineError) -> AdminFailure {
        switch error {
        case .indexUnavailable, .chunkStoreUnavailable, .shuttingDown:
            return AdminFailure(.serviceUnavailable, error.description, code: "SlowDown")
        default:
            return AdminFailure(.internalServerError, "\(error)")
        }
    }

    private func authenticate(_ request: Request) throws {
        var headers: [(name: String, value: String)] = [("host", request.head.authority ?? "")]
        for field in request.headers { headers.append((field.name.canonicalName, field.value)) }
        let target = request.head.path ?? "/"
        let question = target.firstIndex(of: "?")
        let sigRequest = SigV4Request(
            method: request.method.rawValue, rawPath: String(question.map { target[..<$0] } ?? target[...]),
            rawQuery: question.map { String(target[target.index(after: $0)...]) } ?? "", headers: headers)
        let verifier = SigV4Verifier(region: configuration.server.region, service: "s3")
        do {
            guard let claim = try verifier.claim(of: sigRequest) else {
                throw AdminFailure(
                    .unauthorized, "sign admin requests with SigV4 (an account with the admin action)",
                    code: "MissingSignature")
            }
            RequestOutcome.current?.record { $0.accessKey = claim.accessKey }
            guard let account = accounts.account(accessKey: claim.accessKey), account.enabled else {
                throw AdminFailure(.forbidden, "unknown access key", code: "InvalidAccessKeyId")
            }
            var now = timespec()
            clock_gettime(CLOCK_REALTIME, &now)
            _ = try verifier.verify(claim, secretKey: account.secretKey, now: Int(now.tv_sec))
            // Server-wide only (Grant.problem): an account stored by an earlier version with a
            // scoped admin grant is refused here rather than given the whole server.
            RequestOutcome.current?.record { $0.account = account.name }
            guard account.allows(.admin, bucket: "*") else {
                throw AdminFailure(.forbidden, "the account \(account.name) lacks the admin action", code: "AccessDenied")
            }
        } catch let error as SigV4Error {
            // The S3 front door's code for the same refusal (SignatureDoesNotMatch, …), for the log.
            throw AdminFailure(
                .forbidden, "signature check failed: \(error)", code: S3Service.map(error, presigned: false).code)
        }
    }

    func json(_ object: Any, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        headers[.contentLength] = String(data.count)
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    private func errorResponse(_ failure: AdminFailure) -> Response {
        RequestOutcome.current?.record { $0.errorCode = failure.code }
        var body: [String: Any] = ["error": failure.message]
        if let field = failure.field { body["field"] = field }
        var response = json(body, status: failure.status)
        if failure.status == .serviceUnavailable { response.headers[.retryAfter] = "1" }
        return response
    }
}

/// What the route table says about a request's method and path, decided once (before
/// authentication, which does not change it) for the router, metrics and the access log.
enum AdminEndpoint {
    case route(AdminRoute, parameters: [String: String])
    /// The path is an admin resource, but not with this method.
    case methodNotAllowed
    case notFound

    init(method: HTTPRequest.Method, path: String) {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst().map(String.init)
        var pathMatched = false
        for route in AdminAPI.routes {
            guard let parameters = route.match(segments) else { continue }
            pathMatched = true
            guard route.method == method else { continue }
            self = .route(route, parameters: parameters)
            return
        }
        self = pathMatched ? .methodNotAllowed : .notFound
    }
}

/// One admin operation: a method, a path pattern with `{name}` parameters (a last `{name+}`
/// takes the rest of the path, slashes included: object keys), and its handler.
struct AdminRoute: Sendable {
    let method: HTTPRequest.Method
    let pattern: String
    let handler: @Sendable (AdminAPI, AdminRequest) async throws -> AdminReply

    /// Its name in metrics and the access log: `GET /admin/v1/tiers/{name}` (never the path
    /// itself, so a bounded set).
    var operation: String { "\(method.rawValue) \(pattern)" }

    init(
        _ method: HTTPRequest.Method, _ pattern: String,
        _ handler: @escaping @Sendable (AdminAPI, AdminRequest) async throws -> AdminReply
    ) {
        self.method = method
        self.pattern = pattern
        self.handler = handler
    }

    /// The parameters if `segments` (the request path split at `/`) fit the pattern.
    func match(_ segments: [String]) -> [String: String]? {
        let parts = pattern.split(separator: "/").map(String.init)
        var parameters: [String: String] = [:]
        for (i, part) in parts.enumerated() {
            if part.hasPrefix("{") && part.hasSuffix("+}") {
                guard i < segments.count else { return nil }
                let rest = segments[i...].joined(separator: "/")
                guard !rest.isEmpty else { return nil }
                parameters[String(part.dropFirst().dropLast(2))] = SigV4Encoding.decodeUTF8(rest, plusAsSpace: false) ?? rest
                return parameters
            }
            guard i < segments.count else { return nil }
            if part.hasPrefix("{") && part.hasSuffix("}") {
                guard !segments[i].isEmpty else { return nil }
                parameters[String(part.dropFirst().dropLast())] =
                    SigV4Encoding.decodeUTF8(segments[i], plusAsSpace: false) ?? segments[i]
            } else if part != segments[i] {
                return nil
            }
        }
        return parts.count == segments.count ? parameters : nil
    }
}

struct AdminRequest: Sendable {
    let parameters: [String: String]
    let query: [String: String]
    let body: [UInt8]

    func parameter(_ name: String) -> String { parameters[name] ?? "" }

    /// The body as a JSON object; a missing body is an empty object.
    func object() throws -> [String: Any] {
        if body.isEmpty { return [:] }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw AdminFailure(.badRequest, "the body must be a JSON object", field: "")
        }
        return object
    }

    static func parseQuery(_ query: String) -> [String: String] {
        var out: [String: String] = [:]
        for pair in query.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
            let name = SigV4Encoding.decodeUTF8(parts[0], plusAsSpace: false) ?? parts[0]
            let value = parts.count > 1 ? (SigV4Encoding.decodeUTF8(parts[1], plusAsSpace: true) ?? parts[1]) : ""
            out[name] = value
        }
        return out
    }
}

struct AdminReply {
    let status: HTTPResponse.Status
    let body: Any
    /// A reply that is not one JSON document (the trace's stream): sent as it is.
    var response: Response?
    init(_ body: Any, status: HTTPResponse.Status = .ok) {
        self.body = body
        self.status = status
    }
    init(response: Response) {
        self.status = response.status
        self.body = [:] as [String: Any]
        self.response = response
    }
}

/// A refused admin request: its status, what is wrong, and the field at fault when there is one.
struct AdminFailure: Error {
    let status: HTTPResponse.Status
    let message: String
    let field: String?
    /// For the access log: S3's word for an authentication failure (SignatureDoesNotMatch,
    /// InvalidAccessKeyId, AccessDenied), else the status's reason without spaces (`BadRequest`).
    let code: String
    init(_ status: HTTPResponse.Status, _ message: String, field: String? = nil, code: String? = nil) {
        self.status = status
        self.message = message
        self.field = field
        self.code = code ?? RequestOutcome.errorCode(status: status.code, reasonPhrase: status.reasonPhrase)
    }
}

/// Names of tiers, policies and jobs: what fits in a URL path segment and a log line.
func validateName(_ name: String, what: String) throws {
    let allowed = name.utf8.allSatisfy { c in
        (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || (c >= 48 && c <= 57) || c == 45 || c == 46 || c == 95
    }
    guard (1...64).contains(name.utf8.count), allowed else {
        throw AdminFailure(.badRequest, "a \(what) name is 1 to 64 letters, digits, '-', '.' or '_'", field: "name")
    }
}

/// The document of a PUT of a named item (tier, policy, sink) with the path's name in it: a body
/// naming another item is refused, naming the field. `nameMayDiffer` for a path that is not an
/// item's name (a policy's dry run).
func documentNamed(_ name: String, what: String, from object: [String: Any], nameMayDiffer: Bool = false) throws
    -> [String: Any]
{
    if let given = object["name"] as? String, given != name, !nameMayDiffer {
        throw AdminFailure(.badRequest, "the body names \(what) \(given) but the path names \(name)", field: "name")
    }
    var document = object
    document["name"] = name
    return document
}

/// The version `depot --version` and the admin API report.
public enum DepotVersion {
    public static let current = "0.1.0"
}
