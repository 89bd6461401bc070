import ArgumentParser
import DepotCluster
import DepotConfig
import DepotServer
import Foundation
import Logging

/// `depot cluster init|status|nodes|keygen`: the cluster index's schema and node registry, and the key every node shares
/// (README "Cluster mode"). They talk to PostgreSQL directly, not to a server, so they work
/// before any node runs.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Cluster mode: create or migrate the PostgreSQL index's schema, show the nodes, make the cluster's key file.",
        subcommands: [Init.self, ClusterStatus.self, Nodes.self, Keygen.self])

    struct Init: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create or migrate the cluster index's schema (idempotent; safe while nodes run or start).")
        @OptionGroup var target: ClusterTarget

        func run() async throws {
            let location = try target.location()
            let outcome = try await target.using(location) { try await SchemaMigrator(database: $0).migrate() }
            if outcome.applied.isEmpty {
                print("cluster index \(location): schema version \(outcome.to), up to date (nothing to do)")
            } else {
                for version in outcome.applied {
                    let summary = ClusterSchema.migrations.first { $0.version == version }?.summary ?? ""
                    print("applied migration \(version): \(summary)")
                }
                print("cluster index \(location): schema version \(outcome.to) (was \(outcome.from))")
            }
        }
    }

    struct ClusterStatus: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "status",
            abstract:
                "The schema version and each node: version, heartbeat age, alive or dead (no heartbeat for 15 s), uploads in flight."
        )
        @OptionGroup var target: ClusterTarget
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let location = try target.location()
            let (version, nodes, claims) = try await target.using(location) { database in
                let version = try await SchemaMigrator.version(of: database)
                // Before `init` (or a node's first start) there is no node table yet: no nodes.
                let registry = NodeRegistry(database: database)
                return (
                    version, version == 0 ? [] : try await registry.nodes(),
                    version < NodeRegistry.claimsSchemaVersion ? [:] : try await registry.claims()
                )
            }
            if json {
                printJSON([
                    "index": location.description, "schemaVersion": version, "knownSchemaVersion": ClusterSchema.latestVersion,
                    "aliveWithinSeconds": NodeRegistry.aliveWithinSeconds,
                    "nodes": nodes.map { node in
                        // Claims: tier tasks and outbox events whose lease has not ended.
                        let held = claims[node.name] ?? NodeClaims()
                        return describe(node).merging(["claims": ["tasks": held.tasks, "events": held.events]]) { $1 }
                    },
                ])
                return
            }
            var lines = ["cluster index \(location): schema version \(version) (this depot knows \(ClusterSchema.latestVersion))"]
            if version == 0 { lines.append("not initialised: run `depot cluster init`") }
            lines.append(
                "nodes: \(nodes.filter(\.isAlive).count) alive of \(nodes.count) (alive: a heartbeat within \(Int(NodeRegistry.aliveWithinSeconds)) s)"
            )
            if !nodes.isEmpty {
                lines.append(
                    table(
                        ["NODE", "VERSION", "HEARTBEAT", "STATE", "IN-FLIGHT", "CLAIMS", "ADDRESS"],
                        nodes.map { node in
                            [
                                node.name, node.version, node.heartbeatAge.map { String(format: "%.1fs ago", $0) } ?? "never",
                                stateText(node), String(node.inFlight), claimsText(claims[node.name] ?? NodeClaims()),
                                node.address,
                            ]
                        }))
            }
            print(lines.joined(separator: "\n"))
        }
    }

    struct Nodes: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List the nodes registered in the cluster index.")
        @OptionGroup var target: ClusterTarget
        @Flag(name: .long, help: "Print JSON.") var json = false

        func run() async throws {
            let location = try target.location()
            let nodes = try await target.using(location) { database in
                try await SchemaMigrator.version(of: database) == 0 ? [] : try await NodeRegistry(database: database).nodes()
            }
            if json {
                printJSON(nodes.map(describe))
                return
            }
            let started = ISO8601DateFormatter()
            print(
                table(
                    ["NODE", "VERSION", "ADDRESS", "STARTED", "STATE"],
                    nodes.map { node in
                        [
                            node.name, node.version, node.address, node.startedAt.map(started.string) ?? "",
                            stateText(node),
                        ]
                    }))
        }
    }
}

/// Where the cluster index is: `--index URL`, else the configuration's `cluster.index`.
struct ClusterTarget: ParsableArguments {
    @Option(name: .long, help: "Configuration file whose cluster.index names the PostgreSQL database.")
    var config: String?

    @Option(name: .long, help: "The cluster index, postgres://USER:PASSWORD@HOST:PORT/DATABASE (overrides cluster.index).")
    var index: String?

    func location() throws -> PostgresLocation {
        if let index {
            do {
                return try PostgresLocation.parse(index)
            } catch {
                throw ValidationError("--index \(error.reason)")
            }
        }
        guard let cluster = try loadConfiguration(config).cluster else {
            throw CommandFailure(
                config == nil
                    ? "no cluster index: pass --index postgres://... or --config with a cluster: section"
                    : "\(config!): no cluster: section (cluster.index names the PostgreSQL database)")
        }
        return cluster.index
    }

    /// Runs `body` against the database; its errors become the command's message.
    func using<T: Sendable>(
        _ location: PostgresLocation, _ body: @escaping @Sendable (ClusterDatabase) async throws -> T
    ) async throws -> T {
        var logger = Logger(label: "depot.cluster")
        logger.logLevel = .critical
        do {
            return try await ClusterDatabase.using(location, logger: logger, body)
        } catch let error as ClusterDatabaseError {
            throw CommandFailure("cluster index \(location): \(error)")
        }
    }
}

/// A node's live claims for the status table: "2 tasks, 1 event".
private func claimsText(_ claims: NodeClaims) -> String {
    "\(claims.tasks) task\(claims.tasks == 1 ? "" : "s"), \(claims.events) event\(claims.events == 1 ? "" : "s")"
}

private func describe(_ node: ClusterNode) -> [String: Any] {
    [
        "name": node.name, "version": node.version, "address": node.address, "inFlight": node.inFlight, "alive": node.isAlive,
        "state": node.isAlive ? "up" : "down", "heartbeatAgeSeconds": node.heartbeatAge ?? NSNull(),
        "startedAt": node.startedAt.map { ISO8601DateFormatter().string(from: $0) } ?? NSNull(),
        "heartbeatAt": node.heartbeatAt.map { ISO8601DateFormatter().string(from: $0) } ?? NSNull(),
        "downSince": node.downSince.map { ISO8601DateFormatter().string(from: $0) } ?? NSNull(),
    ]
}

/// `alive`, or `down since TIME` (its last heartbeat) once a node missed 15 s of heartbeats.
private func stateText(_ node: ClusterNode) -> String {
    guard let since = node.downSince else { return node.isAlive ? "alive" : "down" }
    return "down since \(ISO8601DateFormatter().string(from: since))"
}

private func printJSON(_ value: Any) {
    let data = (try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted])) ?? Data()
    print(String(decoding: data, as: UTF8.self))
}
