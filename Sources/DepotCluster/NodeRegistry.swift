import Foundation
import Logging
import PostgresNIO

/// One row of `depot_nodes`: a node that registered, and its last heartbeat.
public struct ClusterNode: Sendable, Equatable {
    public let name: String
    public let version: String
    public let address: String
    public let startedAt: Date?
    public let heartbeatAt: Date?
    /// Seconds since the last heartbeat, by the database's clock (nodes' clocks may differ).
    public let heartbeatAge: Double?
    public let inFlight: Int

    /// Alive: a heartbeat within `NodeRegistry.aliveWithinSeconds`.
    public var isAlive: Bool { (heartbeatAge ?? .infinity) <= NodeRegistry.aliveWithinSeconds }

    /// For a dead node, its last heartbeat: the moment it was last known to serve (nil when alive).
    public var downSince: Date? { isAlive ? nil : heartbeatAt ?? startedAt }

    /// The same row `seconds` later (a view read a moment ago, shown now).
    public func aged(by seconds: Double) -> ClusterNode {
        ClusterNode(
            name: name, version: version, address: address, startedAt: startedAt, heartbeatAt: heartbeatAt,
            heartbeatAge: heartbeatAge.map { $0 + max(0, seconds) }, inFlight: inFlight)
    }
}

/// The `depot_nodes` table: nodes register at start and beat every few seconds.
public struct NodeRegistry: Sendable {
    /// How often a node writes its heartbeat.
    public static let heartbeatIntervalSeconds: Double = 3
    /// A node whose last heartbeat is older is reported dead: five missed beats, so a busy
    /// database or a short network hiccup does not flap a node.
    public static let aliveWithinSeconds: Double = 15

    let database: ClusterDatabase

    public init(database: ClusterDatabase) { self.database = database }

    /// Inserts or refreshes this node's row (a restart keeps the name and resets started_at).
    /// Returns the address of another live node that held the name (two nodes configured with
    /// one name would overwrite each other's heartbeat), for the caller to warn about.
    @discardableResult
    public func register(name: String, version: String, address: String, inFlight: Int) async throws -> String? {
        try await database.withConnection("registering node \(name)") { connection in
            let previous = try await connection.query(
                """
                SELECT coalesce(address, ''), extract(epoch FROM now() - heartbeat_at)::float8
                FROM depot_nodes WHERE name = \(name)
                """, logger: Self.logger)
            var clash: String? = nil
            for try await (other, age) in previous.decode((String, Double?).self)
            where other != address && (age ?? .infinity) <= Self.aliveWithinSeconds {
                clash = other
            }
            try await connection.query(
                """
                INSERT INTO depot_nodes (name, version, address, started_at, heartbeat_at, in_flight)
                VALUES (\(name), \(version), \(address), now(), now(), \(Int32(clamping: inFlight)))
                ON CONFLICT (name) DO UPDATE SET version = excluded.version, address = excluded.address,
                    started_at = excluded.started_at, heartbeat_at = excluded.heartbeat_at, in_flight = excluded.in_flight
                """, logger: Self.logger)
            return clash
        }
    }

    /// Writes the heartbeat; false if the row is gone (deleted by an operator), so the caller
    /// registers again.
    public func beat(name: String, address: String, inFlight: Int) async throws -> Bool {
        try await database.withConnection("heartbeat of node \(name)") { connection in
            let rows = try await connection.query(
                """
                UPDATE depot_nodes SET heartbeat_at = now(), in_flight = \(Int32(clamping: inFlight)), address = \(address)
                WHERE name = \(name) RETURNING name
                """, logger: Self.logger)
            for try await _ in rows.decode(String.self) { return true }
            return false
        }
    }

    /// Every registered node, by name.
    public func nodes() async throws -> [ClusterNode] {
        try await database.withConnection("listing the cluster's nodes") { connection in
            let rows = try await connection.query(
                """
                SELECT name, coalesce(version, ''), coalesce(address, ''), started_at, heartbeat_at,
                    extract(epoch FROM now() - heartbeat_at)::float8, coalesce(in_flight, 0)
                FROM depot_nodes ORDER BY name
                """, logger: Self.logger)
            var nodes: [ClusterNode] = []
            for try await (name, version, address, started, heartbeat, age, inFlight) in rows.decode(
                (String, String, String, Date?, Date?, Double?, Int32).self)
            {
                nodes.append(
                    ClusterNode(
                        name: name, version: version, address: address, startedAt: started, heartbeatAt: heartbeat,
                        heartbeatAge: age, inFlight: Int(inFlight)))
            }
            return nodes
        }
    }

    static let logger = Logger(label: "depot.cluster.nodes")
}
