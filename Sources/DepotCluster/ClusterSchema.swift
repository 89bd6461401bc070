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
        // Tier tasks of one object key on one tier are claimed one at a time, in queue order,
        // across the nodes (PostgresIndex+Claims.swift): each row carries its key's group, a
        // column PostgreSQL computes from the task's value whenever a row is written (every
        // node's put, old binaries' included, fills it without knowing it), and filled for the
        // rows queued before this migration by the same function as the column is added.
        Migration(
            version: 5,
            summary: "tier tasks of one key on one tier claimed one at a time, in queue order (depot_tasks.key_group)",
            statements: [
                taskKeyGroupFunction,
                """
                ALTER TABLE \(tableName(.tasks)) ADD COLUMN \(taskKeyGroupColumn) bytea
                    GENERATED ALWAYS AS (\(taskKeyGroupFunctionName)(v)) STORED
                """,
                "CREATE INDEX \(tableName(.tasks))_key_group ON \(tableName(.tasks)) (\(taskKeyGroupColumn), k)",
            ]),
    ]

    /// The column of `depot_tasks` naming a task's tier and object key (migration 5).
    public static let taskKeyGroupColumn = "key_group"
    static let taskKeyGroupFunctionName = "depot_task_key_group"

    /// SHA-256 of a task's tier, bucket and key as `TierTask.encoded()` (version 1) writes them:
    /// a version byte, the kind byte, then LEB128-length-prefixed strings bucket and key, the
    /// object's creation time (a LEB128 varint) and the length-prefixed tier; the prefixed
    /// strings are hashed as they are (tier first, then bucket and key), so no two triples meet.
    /// NULL for a value it cannot read (another version, a truncated value): such a task waits
    /// for nobody and nobody waits for it, as every task did before. Never raises, so a write
    /// of any value goes through.
    static let taskKeyGroupFunction = """
        CREATE FUNCTION \(taskKeyGroupFunctionName)(v bytea) RETURNS bytea
        LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $body$
        DECLARE
            size int := length(v);
            pos int := 2;
            names_end int;
            tier_start int;
            len bigint;
            shift int;
            b int;
        BEGIN
            IF size < 2 OR get_byte(v, 0) <> 1 THEN RETURN NULL; END IF;
            -- Fields 1 to 4: bucket, key, objectCreated (a varint alone), tier.
            FOR field IN 1..4 LOOP
                IF field = 4 THEN tier_start := pos; END IF;
                len := 0;
                shift := 0;
                LOOP
                    IF pos >= size OR shift > 63 THEN RETURN NULL; END IF;
                    b := get_byte(v, pos);
                    pos := pos + 1;
                    IF field <> 3 THEN
                        IF shift > 28 THEN RETURN NULL; END IF;
                        len := len | ((b & 127)::bigint << shift);
                    END IF;
                    EXIT WHEN b < 128;
                    shift := shift + 7;
                END LOOP;
                IF field <> 3 THEN
                    IF len > size - pos THEN RETURN NULL; END IF;
                    pos := pos + len::int;
                    IF field = 2 THEN names_end := pos; END IF;
                END IF;
            END LOOP;
            RETURN sha256(substring(v FROM tier_start + 1 FOR pos - tier_start) || substring(v FROM 3 FOR names_end - 2));
        END
        $body$
        """

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
