import ArgumentParser
import Foundation

/// `depot policy …`: policies through the admin API.
struct PolicyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "policy", abstract: "List, show, create or replace, delete and dry-run policies (admin API).",
        subcommands: [List.self, Show.self, Put.self, Delete.self, DryRun.self])

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List policies, a page at a time, optionally filtered.")
        @Option(help: "Only policies whose name starts with this.") var prefix: String?
        @Option(help: "Only policies from this source (config, api, s3-lifecycle, s3-replication, …).") var source: String?
        @OptionGroup var page: PageOptions
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(
                .GET, "/admin/v1/policies", query: page.query(["prefix": prefix, "source": source]))
            admin.emit(result) {
                let rows = (result["policies"] as? [[String: Any]] ?? []).map { policy -> [String] in
                    let replicate = (policy["replicate"] as? [String: Any])?["to"] as? [String] ?? []
                    let match = (policy["match"] as? [String: Any] ?? [:]).map { "\($0.key)=\(show($0.value))" }.sorted()
                    return [
                        show(policy["name"]), show(policy["source"]), show(replicate), match.joined(separator: " "),
                    ]
                }
                return table(["NAME", "SOURCE", "REPLICATE TO", "MATCH"], rows) + PageOptions.footer(result)
            }
        }
    }

    struct Show: AsyncParsableCommand {
        @Argument(help: "The policy's name.") var name: String
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/policies/\(name)")
            admin.emit(result) { readable(result) }
        }
    }

    struct Put: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or replace a policy; it applies at once, without a restart.",
            discussion: "Example: depot policy put cams-to-cloud match.bucket=rec 'match.key=front-*/**' replicate.to[]=cloud")
        @Argument(help: "The policy's name.") var name: String
        @Argument(help: "field=value settings (dotted for nesting, [] to append to a list).") var settings: [String] = []
        @Option(help: "A JSON or YAML file with the policy's fields.") var from: String?
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let document = try AdminDocument.build(from: from, settings: settings)
            let result = try await admin.call(.PUT, "/admin/v1/policies/\(name)", body: document)
            admin.emit(result) { "policy \(name) saved (\(result["source"] ?? ""))" }
        }
    }

    struct Delete: AsyncParsableCommand {
        @Argument(help: "The policy's name.") var name: String
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.DELETE, "/admin/v1/policies/\(name)")
            admin.emit(result) { "policy \(name) deleted" }
        }
    }

    struct DryRun: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "dry-run", abstract: "Which stored objects a policy matches (a saved one, or one given here).")
        @Argument(help: "A saved policy's name, or field=value settings of a policy to try.") var settings: [String] = []
        @Option(help: "A JSON or YAML file with the policy to try.") var from: String?
        @Option(help: "List at most this many of the matching objects (all are counted; default 100).") var limit: Int?
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result: [String: Any]
            let query = limit.map { [("limit", String($0))] } ?? []
            if settings.count == 1 && !settings[0].contains("=") && from == nil {
                result = try await admin.call(.POST, "/admin/v1/policies/\(settings[0])/dry-run", query: query)
            } else {
                let document = try AdminDocument.build(from: from, settings: settings)
                result = try await admin.call(.POST, "/admin/v1/policies/dry-run", query: query, body: document)
            }
            admin.emit(result) {
                var lines = ["\(result["matches"] ?? 0) objects, \(result["bytes"] ?? 0) bytes"]
                if let locked = result["keptByObjectLock"] as? Int, locked > 0 {
                    lines.append("\(locked) kept by Object Lock (expiry skips them)")
                }
                for object in result["objects"] as? [[String: Any]] ?? [] {
                    let kept = (object["keptByObjectLock"] as? String).map { "  kept: \($0)" } ?? ""
                    lines.append("  \(object["bucket"] ?? "")/\(object["key"] ?? "")  \(object["size"] ?? 0) bytes\(kept)")
                }
                let listed = (result["objects"] as? [Any])?.count ?? 0
                let matches = (result["matches"] as? NSNumber)?.intValue ?? 0
                if matches > listed { lines.append("  … and \(matches - listed) more (--limit lists more)") }
                if let versions = result["versions"] as? [String: Any] {
                    // Version expiry (noncurrent versions, lone delete markers): what it would remove now.
                    lines.append(
                        "versions: \(versions["wouldRemove"] ?? 0) to remove, \(versions["bytes"] ?? 0) bytes, "
                            + "\(versions["keptByObjectLock"] ?? 0) kept by Object Lock")
                    for version in versions["versions"] as? [[String: Any]] ?? [] {
                        let kept = (version["keptByObjectLock"] as? String).map { "  kept: \($0)" } ?? ""
                        lines.append(
                            "  \(version["bucket"] ?? "")/\(version["key"] ?? "") version \(version["versionId"] ?? "")"
                                + " (\(version["reason"] ?? ""))\(kept)")
                    }
                }
                return lines.joined(separator: "\n")
            }
        }
    }
}
