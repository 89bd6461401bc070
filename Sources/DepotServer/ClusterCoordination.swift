import DepotCluster
import DepotConfig
import DepotEngine
import DepotStorage
import Logging

/// What the nodes of a cluster coordinate beyond the shared index itself (README "Cluster mode"):
/// which node runs each background pass over the shared index (`MaintenanceLeadership`), and
/// how a configuration change made through one node's admin API (or S3 bucket settings) reaches
/// the others (`ConfigurationFollower`). Embedded mode: the only node runs every pass and there
/// is nobody to follow.
enum ClusterCoordination {
    static func leadership(_ cluster: ClusterSettings?, logger: Logger) -> any MaintenanceLeadership {
        guard let cluster, ClusterIndexSetup.sharesIndex(cluster) else { return SoleNodeLeadership() }
        return AdvisoryLockLeadership(location: cluster.index, node: cluster.node, logger: logger)
    }

    /// The configuration generation before this node builds its configuration (nil: embedded
    /// mode, or unreadable now, in which case the follower's first read rebuilds once).
    static func generationAtStart(of index: (any IndexStore)?, logger: Logger) -> Int64? {
        guard let index = index as? PostgresIndex else { return nil }
        do {
            return try index.configurationGeneration()
        } catch {
            logger.warning("reading the configuration generation failed (\(error)); it is read again once the index answers")
            return nil
        }
    }

    /// Cluster mode: rebuilds this node's configuration whenever the generation moves, the same
    /// rebuild its own admin API changes run (tiers, policies, sinks, accounts and their quotas,
    /// bucket documents turned into policies and notifications).
    static func follower(
        _ cluster: ClusterSettings?, index: (any IndexStore)?, baseline: Int64?, runtime: RuntimeConfiguration,
        logger: Logger
    ) -> ConfigurationFollower? {
        guard let cluster, index is PostgresIndex else { return nil }
        return ConfigurationFollower(location: cluster.index, baseline: baseline, logger: logger) { generation in
            do {
                try await runtime.rebuild()
                logger.info("configuration generation \(generation): configuration rebuilt from the cluster index")
            } catch {
                logger.error(
                    "configuration generation \(generation): rebuilding the configuration failed, keeping the current one: \(error)"
                )
            }
        }
    }
}
