import ArgumentParser
import AsyncHTTPClient
import DepotSigV4
import DepotSignedHTTP
import Foundation
import Glibc
import NIOCore

/// `depot trace`: the server's requests as they finish, like `mc admin trace`, read from the
/// admin API's stream (`GET /admin/v1/trace`). Runs until interrupted or the server stops.
struct Trace: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show requests live as they finish (GET /admin/v1/trace), like mc admin trace.",
        discussion: """
            One line per request: time, status, error code, API and operation, the access key and \
            account, bucket/key, bytes in and out, duration and client address. --json prints the \
            server's JSON lines as they come. A reader that falls behind is told how many requests it lost.
            """)

    @Flag(help: "Only failed requests (status 400 and up).") var errors = false
    @Option(help: "Only this account's requests (its name, or the access key presented).") var account: String?
    @Option(help: "Only requests for this bucket.") var bucket: String?
    @Option(help: "Only requests to this front door: s3, vault, admin, console or system.") var api: String?
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        var query: [(String, String)] = []
        if errors { query.append(("errors", "true")) }
        if let account { query.append(("account", account)) }
        if let bucket { query.append(("bucket", bucket)) }
        if let api { query.append(("api", api)) }
        let json = admin.json
        try await admin.client.stream("/admin/v1/trace", query: query) { line in
            guard let object = (try? JSONSerialization.jsonObject(with: Data(line.utf8))) as? [String: Any] else { return }
            if let notice = object["notice"] as? String {
                // The stream's own words (started, lines dropped) go to stderr: stdout is requests.
                printError(notice == "tracing" ? "tracing \(Self.describeFilters(object)) (Ctrl-C to stop)" : notice)
                return
            }
            print(json ? line : Self.describe(object))
            fflush(nil)
        }
    }

    static func describeFilters(_ object: [String: Any]) -> String {
        var parts = [object["errorsOnly"] as? Bool == true ? "failed requests" : "every request"]
        for name in ["account", "bucket", "api"] { if let value = object[name] { parts.append("\(name) \(value)") } }
        return parts.joined(separator: ", ")
    }

    /// One request as a line: `13:04:05.123 403 AccessDenied s3 PutObject CAM7KEY (camera7) rec/cam8/1.mp4 in 0 B out 243 B 0.6 ms 10.0.0.7`.
    static func describe(_ r: [String: Any]) -> String {
        let time = (r["time"] as? String).map { String($0.dropFirst(11).prefix(12)) } ?? ""
        var parts = [time, "\(r["status"] ?? "?")"]
        if let code = r["error_code"] { parts.append("\(code)") }
        parts.append("\(r["api"] ?? "") \(r["operation"] ?? "")")
        if let key = r["access_key"] {
            parts.append(r["account"].map { "\(key) (\($0))" } ?? "\(key)")
        }
        if let bucket = r["bucket"] {
            parts.append(r["key"].map { "\(bucket)/\($0)" } ?? "\(bucket)")
        } else {
            parts.append("\(r["method"] ?? "") \(r["path"] ?? "")")
        }
        parts.append("in \(humanBytes(r["bytes_in"] as? Int ?? 0)) out \(humanBytes(r["bytes_out"] as? Int ?? 0))")
        parts.append(String(format: "%.1f ms", r["duration_ms"] as? Double ?? 0))
        if let client = r["client"] { parts.append("\(client)") }
        return parts.joined(separator: " ")
    }
}

extension AdminClient {
    /// A signed GET whose answer is read as it comes, one line at a time (empty lines, the
    /// server's keep-alives, skipped), until the server ends it. Signed like `call`, for the
    /// server's region when the one chosen is refused.
    func stream(_ path: String, query: [(String, String)], line handle: (String) throws -> Void) async throws {
        let target = try AdminTarget.resolve(endpoint: endpoint, config: config, region: region)
        let credentials = try signingCredentials()
        if let reason = target.unreachableReason() {
            throw CommandFailure("cannot reach the admin API at \(target.url): \(reason)\(target.origin)")
        }
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            try await streamLines(
                client, target: target, path: path, query: Self.encodedQuery(query), credentials: credentials, handle)
            try? await client.shutdown()
        } catch {
            try? await client.shutdown()
            if error is CommandFailure { throw error }
            throw CommandFailure("the stream from \(target.url) failed: \(describeTransport(error))\(target.origin)")
        }
    }

    private func streamLines(
        _ client: HTTPClient, target: AdminTarget, path: String, query: String, credentials: SigV4Credentials,
        _ handle: (String) throws -> Void
    ) async throws {
        func open(region: String) async throws -> HTTPClientResponse {
            let signed = SignedHTTPClient(credentials: credentials, region: region, service: "s3", client: client)
            return try await signed.execute(
                SignedRequest(.GET, HTTPEndpoint(url: target.url), path: path, query: query), timeout: .seconds(60))
        }
        let chosen = target.region ?? "us-east-1"
        var response = try await open(region: chosen)
        if response.status == .forbidden, target.region == nil,
            let serverRegion = try await Self.serverRegion(client, base: target.url, credentials: credentials, tried: chosen)
        {
            response = try await open(region: serverRegion)
        }
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 64 << 10)
            let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:]
            let message = object["error"] as? String ?? String(buffer: body)
            throw CommandFailure("\(message) (\(response.status.code) from \(target.url))")
        }
        var pending: [UInt8] = []
        for try await buffer in response.body {
            pending += buffer.readableBytesView
            while let newline = pending.firstIndex(of: 0x0A) {
                let line = String(decoding: pending[..<newline], as: UTF8.self)
                pending.removeSubrange(...newline)
                if !line.isEmpty { try handle(line) }
            }
            // A line is never this long: the server bounds every field.
            if pending.count > 1 << 20 { throw CommandFailure("the trace stream sent a line over 1 MiB") }
        }
    }
}
