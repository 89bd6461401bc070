import DepotCluster
import DepotConfig
import DepotEngine
import Logging

extension ClusterIndexSetup {
    /// The locks keeping a tus upload's PATCHes and DELETE apart: the cluster's when the index
    /// is shared (the next PATCH of an upload may reach any node; `AdvisoryUploadLocks`), nil
    /// (the Vault's own, in this process) otherwise.
    static func uploadLocks(_ cluster: ClusterSettings?, logger: Logger) -> (any UploadLocks)? {
        guard let cluster, sharesIndex(cluster) else { return nil }
        return AdvisoryUploadLocks(location: cluster.index, node: cluster.node, logger: logger)
    }
}
