import DepotCluster
import Foundation

/// `GET /admin/v1/cluster`: the cluster's nodes as the registry (`depot_nodes`) holds them, read
/// from PostgreSQL at the call: per node its name, version, address, start, last heartbeat, state
/// (`up`, or `down` with `downSince`, its last heartbeat, once it missed
/// `NodeRegistry.aliveWithinSeconds` of them) and the uploads it had in flight at that heartbeat;
/// and for the cluster, how many nodes are up and down and their uploads in flight.
///
/// Embedded mode answers 200 with `mode: embedded` and no nodes rather than 404: a monitoring
/// script polls one route on any Depot and reads the mode, instead of telling a missing route
/// from a mistyped one. While PostgreSQL cannot be reached the answer is 503, naming the index.
extension AdminAPI {
    static let clusterRoutes: [AdminRoute] = [
        AdminRoute(.get, "/admin/v1/cluster") { api, _ in
            guard let cluster = api.cluster else {
                return AdminReply(["mode": "embedded", "nodes": [Any](), "up": 0, "down": 0, "inFlight": 0])
            }
            let nodes: [ClusterNode]
            do {
                nodes = try await cluster.nodes()
            } catch {
                throw AdminFailure(
                    .serviceUnavailable, "cluster index \(cluster.indexDescription) cannot be reached: \(error)",
                    code: "IndexUnavailable")
            }
            return AdminReply([
                "mode": "cluster", "node": cluster.nodeName, "index": cluster.indexDescription,
                "aliveWithinSeconds": NodeRegistry.aliveWithinSeconds,
                "heartbeatIntervalSeconds": NodeRegistry.heartbeatIntervalSeconds,
                "up": nodes.filter(\.isAlive).count, "down": nodes.filter { !$0.isAlive }.count,
                "inFlight": nodes.filter(\.isAlive).reduce(0) { $0 + $1.inFlight },
                "nodes": nodes.map(describeNode),
            ])
        }
    ]

    static func describeNode(_ node: ClusterNode) -> [String: Any] {
        var out: [String: Any] = [
            "name": node.name, "version": node.version, "address": node.address, "inFlight": node.inFlight,
            "state": node.isAlive ? "up" : "down",
        ]
        if let started = node.startedAt { out["startedAt"] = isoTime(started) }
        if let heartbeat = node.heartbeatAt { out["heartbeatAt"] = isoTime(heartbeat) }
        if let age = node.heartbeatAge { out["heartbeatAgeSeconds"] = (age * 10).rounded() / 10 }
        if let since = node.downSince { out["downSince"] = isoTime(since) }
        return out
    }

    private static func isoTime(_ date: Date) -> String {
        ISO8601DateFormatter.string(from: date, timeZone: .gmt, formatOptions: [.withInternetDateTime])
    }
}
