import ArgumentParser
import Foundation

struct Tier: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List, show, create or replace, delete and check tiers (admin API).",
        subcommands: [List.self, Show.self, Put.self, Delete.self, Check.self])

    struct Show: AsyncParsableCommand {
        @Argument(help: "The tier's name.") var name: String
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(.GET, "/admin/v1/tiers/\(name)")
            admin.emit(result) { readable(result) }
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
        static let configuration = CommandConfiguration(abstract: "List tiers, a page at a time, optionally filtered.")
        @Option(help: "Only tiers whose name starts with this.") var prefix: String?
        @Option(help: "Only tiers of this type (s3, filesystem, gcs, azure, vault).") var type: String?
        @Option(help: "Only tiers from this source (config, api, …).") var source: String?
        @OptionGroup var page: PageOptions
        @OptionGroup var admin: AdminOptions
        func run() async throws {
            let result = try await admin.call(
                .GET, "/admin/v1/tiers", query: page.query(["prefix": prefix, "type": type, "source": source]))
            admin.emit(result) {
                let rows = (result["tiers"] as? [[String: Any]] ?? []).map { tier -> [String] in
                    let place = (tier["path"] ?? tier["endpoint"].map { "\($0)/\(tier["bucket"] ?? tier["container"] ?? "")" }) ?? ""
                    // The S3 storage class the tier declares (StorageClasses.swift), "-" for none.
                    return [
                        show(tier["name"]), show(tier["type"]), show(tier["storageClass"]), show(tier["source"]), show(place),
                    ]
                }
                return table(["NAME", "TYPE", "CLASS", "SOURCE", "WHERE"], rows) + PageOptions.footer(result)
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
