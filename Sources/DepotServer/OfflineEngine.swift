import DepotConfig
import DepotEngine
import Logging

/// The engine an offline command (`depot account add|list|remove --data`) works on: in cluster
/// mode the shared PostgreSQL index, where every node reads its stored accounts (the accounts
/// sealed with the cluster's key, as the nodes seal them); otherwise the data directory's LMDB
/// index, as before. Without this, an account added offline to a cluster node went into a local
/// LMDB index that no node reads, and the command said it was added.
public enum OfflineEngine {
    public static func open(
        _ configuration: DepotConfiguration, engineConfiguration: EngineConfiguration, logger: Logger
    ) async throws -> Engine {
        guard let cluster = configuration.cluster, ClusterIndexSetup.sharesIndex(cluster) else {
            return try Engine(configuration: engineConfiguration, logger: logger)
        }
        try await ClusterIndexSetup.prepare(cluster, logger: logger)
        var shared = engineConfiguration
        shared.accountSealingKey = ClusterIndexSetup.sharedKey(cluster)?.accountSealingKey
        return try Engine(configuration: shared, indexStore: ClusterIndexSetup.index(cluster, logger: logger), logger: logger)
    }
}
