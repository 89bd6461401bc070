import DepotEngine

/// The cluster index's schema, as numbered migrations that `depot` applies itself
/// (`depot cluster init`, and `depot serve` at start): the one list of them. A released
/// migration is never edited; a change is a new migration appended with the next number.
///
/// Layering: DepotCluster imports DepotEngine (for `IndexTable`) and sits above it, beside the
/// front doors; the engine never imports DepotCluster. DepotConfig already depends on the
/// engine, so the other direction would be a cycle, and the engine only needs the storage
/// seam's protocols (DepotStorage), which a cluster index implements. The server wires a
/// cluster index into the engine.
public enum ClusterSchema {
    public struct Migration: Sendable {
        public let version: Int
        /// What it does, for `depot cluster init`'s output.
        public let summary: String
        /// Run in order in one transaction; one statement each (the extended query protocol
        /// takes one at a time).
        public let statements: [String]
    }

    /// Every migration, in version order, numbered from 1 without gaps.
    public static let migrations: [Migration] = [
        Migration(
            version: 1,
            summary: "index tables (one per IndexTable, bytea keys in byte order) and the node registry",
            statements: IndexTable.allCases.map { table in
                // bytea compares bytewise (memcmp, then length), the order LMDB keeps keys in,
                // so a range scan over `k` visits keys in the same order as the embedded index.
                "CREATE TABLE \(tableName(table)) (k bytea PRIMARY KEY, v bytea NOT NULL)"
            } + [
                """
                CREATE TABLE depot_nodes (
                    name text PRIMARY KEY, version text, address text, started_at timestamptz,
                    heartbeat_at timestamptz, in_flight int)
                """
            ]),
        // Claims with leases on the two work queues (IndexClaims, PostgresIndex+Claims.swift).
        // Columns on the rows, not a separate claims table: a claim lives and dies with its row,
        // so finishing a task (its commit deletes the row) or delivering an event (the row is
        // deleted) drops the claim in the same statement, a rescheduled task (a new key) starts
        // unclaimed, and no claim can outlive its work. The index's own put (`ON CONFLICT DO
        // UPDATE SET v`) never touches them.
        Migration(
            version: 2,
            summary: "claims with leases on tier tasks and event outbox rows (claimed_by, lease_until)",
            statements: [IndexTable.tasks, IndexTable.outbox].map { table in
                "ALTER TABLE \(tableName(table)) ADD COLUMN claimed_by text, ADD COLUMN lease_until timestamptz"
            }),
        // The configuration generation (ConfigurationGeneration): bumped in the transaction of
        // every change the nodes build their configuration from, polled by every node.
        Migration(
            version: 3,
            summary: "the configuration generation other nodes follow (depot_generations)",
            statements: [
                "CREATE TABLE depot_generations (name text PRIMARY KEY, value bigint NOT NULL)",
                "INSERT INTO depot_generations (name, value) VALUES ('configuration', 0)",
            ]),
        // The commit sequence as a PostgreSQL sequence (PostgresIndex+Sequence.swift) instead of
        // the `depot_meta` row every batch of every node wrote; it starts at the row's value (the
        // next free number, a little-endian u64), so a running cluster's numbers go on rising.
        Migration(
            version: 4,
            summary: "the commit sequence nodes take numbers from without conflicts (depot_sequence)",
            statements: [
                "CREATE SEQUENCE \(sequenceName) INCREMENT BY \(sequenceBlockSize) MINVALUE 1",
                """
                SELECT setval('\(sequenceName)', GREATEST(1, COALESCE((SELECT
                    get_byte(v, 0)::bigint | (get_byte(v, 1)::bigint << 8) | (get_byte(v, 2)::bigint << 16)
                    | (get_byte(v, 3)::bigint << 24) | (get_byte(v, 4)::bigint << 32) | (get_byte(v, 5)::bigint << 40)
                    | (get_byte(v, 6)::bigint << 48) | ((get_byte(v, 7)::bigint & 127) << 56)
                    FROM depot_meta WHERE k = '\\x73657175656e6365'::bytea AND length(v) = 8), 1)), false)
                """,
            ]),
    ]

    /// The PostgreSQL sequence the commit sequence's blocks come from (migration 4).
    public static let sequenceName = "depot_sequence"
    /// Numbers per `nextval` (the sequence's increment): a batch logging more takes another block.
    public static let sequenceBlockSize: UInt64 = 256

    /// The version a fully migrated database is at.
    public static var latestVersion: Int { migrations.last?.version ?? 0 }

    /// The table holding one of the index's tables (`depot_objects`, ...).
    public static func tableName(_ table: IndexTable) -> String { "depot_" + tableName(rawValue: table.rawValue) }

    /// IndexTable raw values are camelCase (`completedUploads`); PostgreSQL folds unquoted
    /// names to lower case, so the table is `depot_completed_uploads`.
    static func tableName(rawValue: String) -> String {
        var name = ""
        for character in rawValue {
            if character.isUppercase {
                name += "_" + character.lowercased()
            } else {
                name.append(character)
            }
        }
        return name
    }

    /// The table recording which migrations ran (created outside the numbered migrations, so the
    /// migrator can read it before anything else).
    static let migrationsTable = "depot_schema_migrations"

    /// The key of the advisory lock every migrator takes first: "depot" in ASCII, a constant no
    /// other application on a shared server is likely to use.
    static let migrationLockKey: Int64 = 0x64_6570_6f74
}
