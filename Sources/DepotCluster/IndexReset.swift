import DepotEngine

extension PostgresIndex {
    /// Empties the shared index for `depot fsck --rebuild-index --force`, refused (nothing
    /// changed) while any node's heartbeat is younger than `NodeRegistry.aliveWithinSeconds`: a
    /// running node would write into the index while it is rebuilt. Every index table is emptied
    /// as a fresh database has it, the cluster key's check row of `depot_meta` kept (nodes compare
    /// their key with it). One statement block: the check and the emptying commit together. The
    /// rebuild that follows is its own transaction; should it fail, the index stays empty and
    /// the rebuild can be run again without --force.
    public func emptyForRebuild() throws {
        let tables = IndexTable.allCases.filter { $0 != .meta }.map { ClusterSchema.tableName($0) }
        let fresh = "heartbeat_at > now() - interval '\(Int(NodeRegistry.aliveWithinSeconds)) seconds'"
        try execute(
            """
            DO $$ BEGIN
              IF EXISTS (SELECT 1 FROM depot_nodes WHERE \(fresh)) THEN
                RAISE EXCEPTION 'nodes with a heartbeat in the last \(Int(NodeRegistry.aliveWithinSeconds)) s: % (stop them first)',
                  (SELECT string_agg(name, ', ' ORDER BY name) FROM depot_nodes WHERE \(fresh));
              END IF;
              TRUNCATE \(tables.joined(separator: ", "));
              DELETE FROM \(ClusterSchema.tableName(.meta)) WHERE k <> convert_to('\(ClusterKeyCheck.markerKey)', 'UTF8');
            END $$
            """)
    }
}
