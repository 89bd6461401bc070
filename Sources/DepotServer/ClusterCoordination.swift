import DepotCluster
import DepotConfig
import DepotEngine
import Logging

/// What the nodes of a cluster coordinate beyond the shared index itself (README "Cluster mode"):
/// which node runs each background pass over the shared index (`MaintenanceLeadership`).
/// Embedded mode: the only node runs every pass.
enum ClusterCoordination {
    static func leadership(_ cluster: ClusterSettings?, logger: Logger) -> any MaintenanceLeadership {
        guard let cluster, ClusterIndexSetup.sharesIndex(cluster) else { return SoleNodeLeadership() }
        return AdvisoryLockLeadership(location: cluster.index, node: cluster.node, logger: logger)
    }
}
