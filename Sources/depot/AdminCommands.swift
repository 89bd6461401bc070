import ArgumentParser
import AsyncHTTPClient
import DepotSigV4
import DepotSignedHTTP
import Foundation
import NIOCore
import NIOHTTP1

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Show the server's version, uptime, the data device's free space and reserve, accounts' usage against their quotas, and per tier its backlog, oldest pending age, breaker, failing state and last error."
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
            lines += tierStatusLines(status["tiers"] as? [[String: Any]] ?? [])
            return lines.joined(separator: "\n")
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
