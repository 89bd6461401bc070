import ArgumentParser
import AsyncHTTPClient
import DepotSigV4
import DepotSignedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// Where the admin commands find the server and with which keys (AdminTarget.swift says in
/// which order the endpoint is looked for).
struct AdminOptions: ParsableArguments {
    @Option(help: "The server's URL (default: DEPOT_ENDPOINT, else server.address of --config).") var endpoint: String?
    @Option(help: "A configuration file whose server.address and server.region locate the server.")
    var config: String?
    @Option(help: "Access key of an account with the admin action.") var accessKey: String?
    @Option(help: "Its secret key.") var secretKey: String?
    @Option(help: "The server's region (default: DEPOT_REGION, else server.region of --config, else asked of the server).")
    var region: String?
    @Flag(help: "Print JSON instead of text.") var json = false

    var client: AdminClient {
        AdminClient(
            endpoint: endpoint, config: config, accessKey: accessKey, secretKey: secretKey, region: region, json: json)
    }

    func call(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil)
        async throws -> [String: Any]
    {
        try await client.call(method, path, query: query, body: body)
    }

    func emit(_ object: [String: Any], table: () -> String) { client.emit(object, table: table) }
}

/// A signed connection to the admin API.
struct AdminClient {
    var endpoint: String?
    var config: String?
    var accessKey: String?
    var secretKey: String?
    var region: String?
    var json = false
    /// Seconds to wait for an answer: long enough for a backfill request, which queues every
    /// object a policy matches before it answers.
    var requestTimeout: Int64 = 120

    /// Sends a SigV4-signed admin request and returns the decoded JSON body. A refusal by the
    /// server is a `CommandFailure` with the server's message (exit 1); a server that cannot be
    /// reached is one naming the URL tried and where that URL came from.
    ///
    /// Requests are signed for `--region`, else `DEPOT_REGION`, else the configuration file's
    /// `server.region`, else us-east-1; when the server refuses that signature and no region was
    /// chosen, its S3 front door is asked for its region (AWS's way: a request signed for the
    /// wrong region is answered with the right one in `<Region>`) and the request is signed
    /// once more for it.
    func call(_ method: HTTPMethod, _ path: String, query: [(String, String)] = [], body: [String: Any]? = nil)
        async throws -> [String: Any]
    {
        let target = try AdminTarget.resolve(endpoint: endpoint, config: config, region: region)
        // Each segment (a tier, policy or object key part) encoded the SigV4 way: `/` inside a
        // key is the only separator the server splits at.
        let path = SigV4Encoding.encode(path, keepSlash: true)
        let query = Self.encodedQuery(query)
        let credentials = try signingCredentials()
        if let reason = target.unreachableReason() {
            throw CommandFailure("cannot reach the admin API at \(target.url): \(reason)\(target.origin)")
        }
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        let reply: (status: UInt, body: [UInt8])
        do {
            reply = try await exchange(
                client, method, target: target, path: path, query: query, payload: payload, credentials: credentials)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            throw CommandFailure("cannot reach the admin API at \(target.url): \(describeTransport(error))\(target.origin)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
        guard reply.status < 300 else {
            let field = (object["field"] as? String).map { $0.isEmpty ? "" : "\($0): " } ?? ""
            let message = object["error"] as? String ?? String(decoding: reply.body.prefix(2000), as: UTF8.self)
            throw CommandFailure("\(field)\(message) (\(reply.status) from \(target.url))")
        }
        return object
    }

    /// The keys requests are signed with: the flags, else the environment.
    func signingCredentials() throws -> SigV4Credentials {
        guard let access = accessKey ?? environment("DEPOT_ACCESS_KEY") ?? environment("DEPOT_ROOT_USER"),
            let secret = secretKey ?? environment("DEPOT_SECRET_KEY") ?? environment("DEPOT_ROOT_PASSWORD")
        else { throw CommandFailure("give --access-key/--secret-key or set DEPOT_ACCESS_KEY/DEPOT_SECRET_KEY") }
        return SigV4Credentials(accessKey: access, secretKey: secret)
    }

    /// The query string, sorted as SigV4's canonical query is.
    static func encodedQuery(_ query: [(String, String)]) -> String {
        query.sorted { $0.0 < $1.0 }.map { SigV4Encoding.encode($0.0) + "=" + SigV4Encoding.encode($0.1) }
            .joined(separator: "&")
    }

    /// The request, signed for the chosen region, and once more for the server's if it refused that.
    private func exchange(
        _ client: HTTPClient, _ method: HTTPMethod, target: AdminTarget, path: String, query: String, payload: Data?,
        credentials: SigV4Credentials
    ) async throws -> (status: UInt, body: [UInt8]) {
        let signingRegion = target.region ?? "us-east-1"
        let reply = try await send(
            client, method, base: target.url, path: path, query: query, payload: payload, credentials: credentials,
            region: signingRegion)
        guard reply.status == 403, target.region == nil,
            let serverRegion = try await Self.serverRegion(
                client, base: target.url, credentials: credentials, tried: signingRegion)
        else { return reply }
        return try await send(
            client, method, base: target.url, path: path, query: query, payload: payload, credentials: credentials,
            region: serverRegion)
    }

    /// One signed request; the status and the body (at most 16 MiB).
    private func send(
        _ client: HTTPClient, _ method: HTTPMethod, base: String, path: String, query: String, payload: Data?,
        credentials: SigV4Credentials, region: String
    ) async throws -> (status: UInt, body: [UInt8]) {
        let signed = SignedHTTPClient(credentials: credentials, region: region, service: "s3", client: client)
        let request = SignedRequest(
            method, HTTPEndpoint(url: base), path: path, query: query,
            unsignedHeaders: payload == nil ? [] : [("content-type", "application/json")],
            body: payload.map { .signed(Array($0)) } ?? .empty)
        let reply = try await signed.fetch(request, timeout: .seconds(requestTimeout), bodyLimit: 16 << 20)
        return (reply.status, reply.body)
    }

    /// The region the server signs for, as its S3 front door names it when a request is signed
    /// for another one (`AuthorizationHeaderMalformed` with `<Region>`); nil when it names none
    /// or the same one (then the 403 had another cause).
    static func serverRegion(
        _ client: HTTPClient, base: String, credentials: SigV4Credentials, tried: String
    ) async throws -> String? {
        let signed = SignedHTTPClient(credentials: credentials, region: tried, service: "s3", client: client)
        let reply = try await signed.fetch(
            SignedRequest(.GET, HTTPEndpoint(url: base), path: "/"), timeout: .seconds(30), bodyLimit: 64 << 10)
        let text = reply.text
        guard let open = text.range(of: "<Region>"),
            let close = text.range(of: "</Region>", range: open.upperBound..<text.endIndex)
        else { return nil }
        let region = String(text[open.upperBound..<close.lowerBound])
        return region.isEmpty || region == tried ? nil : region
    }

    /// Prints the reply as JSON with `--json`, else as the command's text.
    func emit(_ object: [String: Any], table text: () -> String) {
        print(json ? prettyJSON(object) : text())
    }
}

/// An environment variable, nil when unset or empty.
func environment(_ name: String) -> String? {
    ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 }
}

/// Why a request did not get an answer, in the words of `connect(2)` ("connection refused"),
/// dug out of the HTTP client's wrappers; the error as it is when it carries no errno.
func describeTransport(_ error: Error) -> String {
    if let code = errnoCode(in: error, depth: 0) { return String(cString: strerror(code)).lowercased() }
    if let http = error as? HTTPClientError {
        switch http {
        case .connectTimeout: return "no connection within the timeout"
        case .deadlineExceeded, .readTimeout: return "no answer within the timeout"
        case .remoteConnectionClosed: return "the server closed the connection"
        default: return "\(http)"
        }
    }
    return "\(error)"
}

/// The errno of the first `IOError` inside `error` (NIO wraps each address's connect failure
/// in a connection error that lists them).
private func errnoCode(in value: Any, depth: Int) -> Int32? {
    if let io = value as? IOError { return io.errnoCode }
    guard depth < 5 else { return nil }
    for child in Mirror(reflecting: value).children {
        if let code = errnoCode(in: child.value, depth: depth + 1) { return code }
    }
    return nil
}
