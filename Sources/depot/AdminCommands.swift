import ArgumentParser
import AsyncHTTPClient
import DepotSigV4
import DepotSignedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// Where the admin commands find the server and with which keys: flags, else the environment
/// (`DEPOT_ENDPOINT`, `DEPOT_ACCESS_KEY` / `DEPOT_SECRET_KEY`, else the root credentials).
struct AdminOptions: ParsableArguments {
    @Option(help: "The server's URL.") var endpoint: String?
    @Option(help: "Access key of an account with the admin action.") var accessKey: String?
    @Option(help: "Its secret key.") var secretKey: String?
    @Option(help: "The server's region (server.region; default: DEPOT_REGION, else asked of the server).")
    var region: String?
    @Flag(help: "Print JSON instead of a table.") var json = false

    var client: AdminClient {
        AdminClient(endpoint: endpoint, accessKey: accessKey, secretKey: secretKey, region: region, json: json)
    }

    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        try await client.call(method, path, body: body)
    }

    func emit(_ object: [String: Any], table: () -> String) { client.emit(object, table: table) }
}

/// A signed connection to the admin API.
struct AdminClient {
    var endpoint: String?
    var accessKey: String?
    var secretKey: String?
    var region: String?
    var json = false

    func environment(_ name: String) -> String? { ProcessInfo.processInfo.environment[name].flatMap { $0.isEmpty ? nil : $0 } }

    /// Sends a SigV4-signed admin request and returns the decoded JSON body.
    ///
    /// Requests are signed for `--region`, else `DEPOT_REGION`, else us-east-1; when the server
    /// refuses that signature, its S3 front door is asked for its region (AWS's way: a request
    /// signed for the wrong region is answered with the right one in `<Region>`) and the request
    /// is signed once more for it.
    func call(_ method: HTTPMethod, _ path: String, body: [String: Any]? = nil) async throws -> [String: Any] {
        // Each segment (a tier, policy or object key part) encoded the SigV4 way: `/` inside a
        // key is the only separator the server splits at.
        let path = SigV4Encoding.encode(path, keepSlash: true)
        let base = endpoint ?? environment("DEPOT_ENDPOINT") ?? "http://127.0.0.1:9000"
        guard let access = accessKey ?? environment("DEPOT_ACCESS_KEY") ?? environment("DEPOT_ROOT_USER"),
            let secret = secretKey ?? environment("DEPOT_SECRET_KEY") ?? environment("DEPOT_ROOT_PASSWORD")
        else { throw ValidationError("give --access-key/--secret-key or set DEPOT_ACCESS_KEY/DEPOT_SECRET_KEY") }
        let credentials = SigV4Credentials(accessKey: access, secretKey: secret)
        let payload = try body.map { try JSONSerialization.data(withJSONObject: $0) } ?? Data()
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        do {
            let reply = try await exchange(
                client, method, base: base, path: path, payload: body == nil ? nil : payload, credentials: credentials)
            try await client.shutdown()
            let object = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any] ?? [:]
            guard reply.status < 300 else {
                let field = (object["field"] as? String).map { $0.isEmpty ? "" : "\($0): " } ?? ""
                throw ValidationError(
                    "\(reply.status): \(field)\(object["error"] as? String ?? String(decoding: reply.body, as: UTF8.self))")
            }
            return object
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    /// The request, signed for the chosen region, and once more for the server's if it refused that.
    private func exchange(
        _ client: HTTPClient, _ method: HTTPMethod, base: String, path: String, payload: Data?,
        credentials: SigV4Credentials
    ) async throws -> (status: UInt, body: [UInt8]) {
        let chosenRegion = region ?? environment("DEPOT_REGION")
        var signingRegion = chosenRegion ?? "us-east-1"
        let reply = try await send(
            client, method, base: base, path: path, payload: payload, credentials: credentials, region: signingRegion)
        guard reply.status == 403, chosenRegion == nil,
            let serverRegion = try await Self.serverRegion(client, base: base, credentials: credentials, tried: signingRegion)
        else { return reply }
        signingRegion = serverRegion
        return try await send(
            client, method, base: base, path: path, payload: payload, credentials: credentials, region: signingRegion)
    }

    /// One signed request; the status and the body (at most 16 MiB).
    private func send(
        _ client: HTTPClient, _ method: HTTPMethod, base: String, path: String, payload: Data?,
        credentials: SigV4Credentials, region: String
    ) async throws -> (status: UInt, body: [UInt8]) {
        let signed = SignedHTTPClient(credentials: credentials, region: region, service: "s3", client: client)
        let request = SignedRequest(
            method, HTTPEndpoint(url: base), path: path,
            unsignedHeaders: payload == nil ? [] : [("content-type", "application/json")],
            body: payload.map { .signed(Array($0)) } ?? .empty)
        let reply = try await signed.fetch(request, timeout: .seconds(120), bodyLimit: 16 << 20)
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

    func emit(_ object: [String: Any], table: () -> String) {
        if json {
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(table())
        }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show the server's version, uptime, the data device's free space and reserve, accounts' usage against their quotas, and replication backlog per tier."
    )
    @OptionGroup var admin: AdminOptions

    func run() async throws {
        let status = try await admin.call(.GET, "/admin/v1/status")
        admin.emit(status) {
            var lines = [
                "version \(status["version"] ?? "?"), up \(status["uptimeSeconds"] ?? 0) s, \(status["buckets"] ?? 0) buckets",
            ]
            if let space = status["storage"] as? [String: Any], let free = space["freeBytes"] as? Int,
                let total = space["totalBytes"] as? Int, let reserve = space["reserveBytes"] as? Int
            {
                // df-style: what is free on the data device, and the part of it uploads may not use.
                lines.append(
                    "data device: \(humanBytes(free)) free of \(humanBytes(total)), reserve \(humanBytes(reserve)) (for deletes and compaction)")
            }
            for account in status["quotas"] as? [[String: Any]] ?? [] {
                let usage = account["usage"] as? [String: Any] ?? [:]
                let quota = account["quota"] as? [String: Any] ?? [:]
                let owned = humanBytes(usage["bytes"] as? Int ?? 0)
                var line = "account \(account["accessKey"] ?? "?") (\(account["name"] ?? "")): \(owned)"
                if let bytes = quota["bytes"] as? Int { line += " of \(humanBytes(bytes))" }
                line += ", \(usage["objects"] as? Int ?? 0) objects"
                if let objects = quota["objects"] as? Int { line += " of \(objects)" }
                if let uploading = usage["uploadingBytes"] as? Int, uploading > 0 {
                    line += ", \(humanBytes(uploading)) in uploads in progress"
                }
                lines.append(line)
            }
            for bucket in status["publicBuckets"] as? [[String: Any]] ?? [] {
                let reasons = (bucket["reasons"] as? [String] ?? []).joined(separator: "; ")
                lines.append("PUBLIC bucket \(bucket["name"] ?? "?"): \(reasons)")
            }
            lines.append("")
            lines.append(pad("TIER", 16) + pad("TYPE", 12) + pad("BACKLOG", 10) + pad("OLDEST PENDING", 16) + "RATE (1 MIN)")
            for tier in status["tiers"] as? [[String: Any]] ?? [] {
                let rate = (tier["bytesPerSecond"] as? Double) ?? 0
                lines.append(
                    pad("\(tier["name"] ?? "")", 16) + pad("\(tier["type"] ?? "")", 12) + pad("\(tier["backlog"] ?? 0)", 10)
                        + pad("\(tier["oldestPendingAgeSeconds"] ?? 0) s", 16) + String(format: "%.1f MB/s", rate / 1e6))
            }
            return lines.joined(separator: "\n")
        }
    }
}

struct Tier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, create or replace, delete and check tiers (admin API).",
        subcommands: [List.self, Show.self, Put.self, Delete.self, Check.self])

    struct Show: AsyncParsableCommand {
        @Argument(help: "The tier's name.") var name: String
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/tiers/\(name)")
            admin.emit(result) { prettyJSON(result) }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a tier; it applies at once, without a restart.",
            discussion: "Example: depot tier put cloud type=s3 endpoint=https://s3.example bucket=archive accessKey=K secretKey=S"
        )
        @Argument(help: "The tier's name.") var name: String
        @Argument(help: "field=value settings (the fields of a tiers[] entry).") var settings: [String] = []
        @Option(help: "A JSON or YAML file with the tier's fields.") var from: String?
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let document = try AdminDocument.build(from: from, settings: settings)
            let result = try await admin.call(.PUT, "/admin/v1/tiers/\(name)", body: document)
            admin.emit(result) { "tier \(name) saved (\(result["source"] ?? ""))" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @Argument(help: "The tier's name.") var name: String
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.DELETE, "/admin/v1/tiers/\(name)")
            admin.emit(result) { "tier \(name) deleted" }
        }
    }

    struct List: AsyncParsableCommand {
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/tiers")
            admin.emit(result) {
                var lines = [pad("NAME", 16) + pad("TYPE", 12) + pad("CLASS", 16) + pad("SOURCE", 24) + "WHERE"]
                for tier in result["tiers"] as? [[String: Any]] ?? [] {
                    let place = (tier["path"] ?? tier["endpoint"].map { "\($0)/\(tier["bucket"] ?? "")" }) ?? ""
                    // The S3 storage class the tier declares (StorageClasses.swift), "-" for none.
                    lines.append(
                        pad("\(tier["name"] ?? "")", 16) + pad("\(tier["type"] ?? "")", 12)
                            + pad("\(tier["storageClass"] ?? "-")", 16) + pad("\(tier["source"] ?? "")", 24) + "\(place)")
                }
                return lines.joined(separator: "\n")
            }
        }
    }

    struct Check: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write, read back and delete a probe object on a tier; says exactly what failed.")
        @Argument(help: "The tier's name.") var name: String
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let result = try await admin.call(.POST, "/admin/v1/tiers/\(name)/check")
            admin.emit(result) {
                (result["ok"] as? Bool) == true
                    ? "tier \(name): ok (probe written, read back, deleted)" : "tier \(name): FAILED: \(result["error"] ?? "")"
            }
            if (result["ok"] as? Bool) != true { throw ExitCode(1) }
        }
    }
}

func pad(_ text: String, _ width: Int) -> String {
    text.count >= width ? text + " " : text + String(repeating: " ", count: width - text.count)
}

struct Replicate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send objects to a tier on demand (by keys, or every key under a prefix, optionally only newer ones).")
    @Argument(help: "The bucket.") var bucket: String
    @Argument(help: "Keys to send.") var keys: [String] = []
    @Option(help: "Send every object under this key prefix.") var prefix: String?
    @Option(help: "With --prefix: only objects stored at or after this Unix time (seconds).") var since: Int64?
    @Option(help: "The tier to send to.") var tier: String
    @Option(help: "With --existing: the policy whose matching objects to send.") var policy: String?
    @Flag(help: "Backfill: send every existing object the policy matches (objects stored before it existed).")
    var existing = false
    @OptionGroup var admin: AdminOptions

    func validate() throws {
        if existing != (policy != nil) { throw ValidationError("--existing and --policy go together") }
        if keys.isEmpty && prefix == nil && policy == nil {
            throw ValidationError("name keys, or give --prefix, or --policy NAME --existing")
        }
    }

    func run() async throws {
        var body: [String: Any] = ["bucket": bucket, "tier": tier, "keys": keys]
        if let prefix { body["prefix"] = prefix }
        if let since { body["since"] = since * 1000 }
        if let policy { body["policy"] = policy }
        let result = try await admin.call(.POST, "/admin/v1/replicate", body: body)
        admin.emit(result) {
            let missing = result["missing"] as? [String] ?? []
            return "queued \(result["queued"] ?? 0) objects for \(tier)"
                + (missing.isEmpty ? "" : "; not found: " + missing.joined(separator: ", "))
        }
    }
}

struct Replication: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Replication state.", subcommands: [List.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List objects whose copy to a tier failed.")
        @Flag(help: "Only failed replications (the only listing so far).") var failed = false
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/replication/failed")
            admin.emit(result) {
                var lines = [pad("BUCKET", 16) + pad("KEY", 40) + pad("TIER", 12) + pad("ATTEMPTS", 10) + "LAST ERROR"]
                for item in result["failed"] as? [[String: Any]] ?? [] {
                    lines.append(
                        pad("\(item["bucket"] ?? "")", 16) + pad("\(item["key"] ?? "")", 40) + pad("\(item["tier"] ?? "")", 12)
                            + pad("\(item["attempts"] ?? "")", 10) + "\(item["lastError"] ?? "")")
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}

struct Events: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events", abstract: "Event delivery.", subcommands: [Status.self])

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract:
                "Each sink's ARN (what bucket notification configurations name it by), backlog, oldest pending age, delivered and dropped counts, and last error."
        )
        @OptionGroup var admin: AdminOptions

        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/events")
            admin.emit(result) {
                var lines = ["outbox: \(result["outbox"] ?? 0) events", ""]
                lines.append(
                    pad("SINK", 16) + pad("TYPE", 10) + pad("BACKLOG", 9) + pad("OLDEST", 9) + pad("DELIVERED", 11)
                        + pad("DROPPED", 9) + "LAST ERROR")
                let sinks = result["sinks"] as? [[String: Any]] ?? []
                for sink in sinks {
                    lines.append(
                        pad("\(sink["name"] ?? "")", 16) + pad("\(sink["type"] ?? "")", 10) + pad("\(sink["backlog"] ?? 0)", 9)
                            + pad("\(sink["oldestPendingAgeSeconds"] ?? 0) s", 9) + pad("\(sink["delivered"] ?? 0)", 11)
                            + pad("\(sink["dropped"] ?? 0)", 9) + "\(sink["lastError"] ?? "")")
                }
                // The ARNs on lines of their own, whole, for the admin to copy into a bucket
                // notification configuration (`aws s3api put-bucket-notification-configuration`, `mc event add`).
                if !sinks.isEmpty {
                    lines += ["", pad("SINK", 16) + pad("BUCKET NOTIFICATIONS", 22) + "ARN"]
                    for sink in sinks {
                        lines.append(
                            pad("\(sink["name"] ?? "")", 16) + pad("\(sink["bucketNotifications"] ?? 0)", 22)
                                + "\(sink["arn"] ?? "")")
                    }
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}
