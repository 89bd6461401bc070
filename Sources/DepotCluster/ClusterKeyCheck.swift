import DepotConfig
import DepotEngine
import Logging
import PostgresNIO

/// Whether this node was given the cluster's key (`cluster.keyFile`, ClusterKey.swift): the
/// shared index keeps the key's check value (a keyed hash that reveals nothing of the key, never
/// the key), set by the first node that starts, and every node compares its own before it opens
/// the index. Without this, a node given another file would seal account records the other nodes
/// cannot open, sign console sessions and Vault links they refuse, and present another root.
///
/// Kept as one marker row of the index's `meta` table (`depot_meta`), like the engine's other
/// one-time markers, so no schema change was needed.
public enum ClusterKeyCheck {
    static let markerKey = "cluster-key-check"

    /// Records the check value if the index has none yet, else compares: throws
    /// `ClusterKeyMismatch` (naming `cluster.keyFile`) when they differ. Returns true when this
    /// node recorded it (the cluster's first start with a key).
    @discardableResult
    public static func verify(_ key: ClusterKey, database: ClusterDatabase) async throws -> Bool {
        let table = ClusterSchema.tableName(.meta)
        let mine = key.checkValue
        let marker = markerKey
        let stored: (value: String, recorded: Bool) = try await database.withConnection("checking the cluster key") {
            connection in
            // First writer wins; several nodes starting at once all read the one that won.
            let inserted = try await connection.query(
                """
                INSERT INTO \(unescaped: table) (k, v) VALUES (convert_to(\(marker), 'UTF8'), convert_to(\(mine), 'UTF8'))
                ON CONFLICT (k) DO NOTHING RETURNING 1
                """, logger: Logger(label: "depot.cluster"))
            var recorded = false
            for try await _ in inserted.decode(Int32.self) { recorded = true }
            let rows = try await connection.query(
                "SELECT convert_from(v, 'UTF8') FROM \(unescaped: table) WHERE k = convert_to(\(marker), 'UTF8')",
                logger: Logger(label: "depot.cluster"))
            for try await value in rows.decode(String.self) { return (value, recorded) }
            return ("", recorded)
        }
        guard stored.value == mine else {
            throw ClusterKeyMismatch(index: database.location.description, expected: stored.value, given: mine)
        }
        return stored.recorded
    }
}

/// A node's `cluster.keyFile` is not the key the cluster's index was sealed with.
public struct ClusterKeyMismatch: Error, CustomStringConvertible {
    public let index: String
    /// The check values (keyed hashes, not keys): the index's, and this node's file's.
    public let expected: String
    public let given: String

    public var description: String {
        """
        cluster.keyFile: this node's key (check value \(given)) is not the key the cluster index at \(index) \
        was sealed with (check value \(expected)): give every node the same key file (`depot cluster keygen FILE` \
        prints a file's check value)
        """
    }
}
