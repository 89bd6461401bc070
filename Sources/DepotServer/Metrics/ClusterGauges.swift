import CoreMetrics
import DepotCluster

/// Cluster mode's figures at `/metrics`, recorded before each scrape: for the cluster, how many
/// registered nodes are up and down; per node (label `node`, the registry's bounded set of
/// names), whether it is up, its uploads in flight and its heartbeat's age; for this node,
/// whether its last heartbeat reached the index and its uploads in flight now.
///
/// The registry is the one this node read after its last heartbeat (NodeHeartbeat.lastKnownNodes,
/// at most a heartbeat interval old, ages brought forward to the scrape), so a scrape never
/// waits on PostgreSQL; while PostgreSQL is away the view is the last one read, and
/// `depot_cluster_index_reachable` says 0. Embedded mode exports none of these.
enum ClusterGauges {
    static func record(_ cluster: NodeHeartbeat?) {
        guard let cluster else { return }
        Gauge(label: "depot_cluster_index_reachable").record(cluster.isIndexReachable ? 1 : 0)
        Gauge(label: "depot_uploads_in_flight").record(cluster.uploadsInFlight)
        guard let nodes = cluster.lastKnownNodes else { return }
        let up = nodes.filter(\.isAlive).count
        Gauge(label: "depot_cluster_nodes_up").record(up)
        Gauge(label: "depot_cluster_nodes_down").record(nodes.count - up)
        for node in nodes {
            let labels = [("node", node.name)]
            Gauge(label: "depot_cluster_node_up", dimensions: labels).record(node.isAlive ? 1 : 0)
            Gauge(label: "depot_cluster_node_in_flight", dimensions: labels).record(node.isAlive ? node.inFlight : 0)
            if let age = node.heartbeatAge {
                Gauge(label: "depot_cluster_node_heartbeat_age_seconds", dimensions: labels).record(age)
            }
        }
    }
}
