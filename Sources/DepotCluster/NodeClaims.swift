import DepotEngine
import PostgresNIO

/// What one node holds claimed (`IndexClaims`): tier tasks and event outbox rows whose lease has
/// not ended, for `depot cluster status`.
public struct NodeClaims: Sendable, Equatable {
    public var tasks = 0
    public var events = 0

    public init(tasks: Int = 0, events: Int = 0) {
        self.tasks = tasks
        self.events = events
    }
}

extension NodeRegistry {
    /// The schema version that added the claim columns (ClusterSchema's migration 2).
    public static let claimsSchemaVersion = 2

    /// Each node's live claims, by node name (a node holding none is absent). A lease that
    /// ended counts for nobody: another node may take that work.
    public func claims() async throws -> [String: NodeClaims] {
        let tasks = ClusterSchema.tableName(.tasks)
        let outbox = ClusterSchema.tableName(.outbox)
        return try await database.withConnection("reading the cluster's claims") { connection in
            let rows = try await connection.query(
                """
                SELECT claimed_by, 'tasks', count(*)::int8 FROM \(unescaped: tasks)
                    WHERE lease_until > now() GROUP BY claimed_by
                UNION ALL
                SELECT claimed_by, 'events', count(*)::int8 FROM \(unescaped: outbox)
                    WHERE lease_until > now() GROUP BY claimed_by
                """, logger: Self.logger)
            var claims: [String: NodeClaims] = [:]
            for try await (node, kind, count) in rows.decode((String, String, Int64).self) {
                if kind == "tasks" {
                    claims[node, default: NodeClaims()].tasks = Int(count)
                } else {
                    claims[node, default: NodeClaims()].events = Int(count)
                }
            }
            return claims
        }
    }
}
