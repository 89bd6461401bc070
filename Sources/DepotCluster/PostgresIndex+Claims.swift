import DepotEngine
import DepotStorage
import NIOCore
import PostgresNIO

/// Claims with leases over the `claimed_by` and `lease_until` columns of `depot_tasks` and
/// `depot_outbox` (migration 2, ClusterSchema).
///
/// Each statement runs on its own (autocommit, PostgreSQL's READ COMMITTED), outside the index's
/// REPEATABLE READ transactions: a claim must see other nodes' claims committed a moment ago, and
/// `FOR UPDATE SKIP LOCKED` passes over rows another node is claiming at this instant instead of
/// waiting for it or failing with a serialization error. Under READ COMMITTED PostgreSQL checks
/// the lease condition again on the newest version of a row it locks, so two nodes never both
/// take an entry whose lease one of them has just renewed or taken.
///
/// An expired lease counts as no claim: `lease_until < now()`, by the database's clock, so the
/// nodes' own clocks never decide who holds what.
///
/// Tier tasks of one object key on one tier run one at a time across the nodes, in queue order
/// (due time, then id: the order they were written in, retries aside): a task is claimable only
/// while no other task of its `key_group` (migration 5) is queued ahead of it, claimed or not,
/// nor held under a live lease (a task queued behind it that a node took earlier, with another
/// clock or a due time moved to now). A task decides when it starts whether its object is
/// current and so goes to the tier's plain key; two of one key running at once, on two nodes,
/// let an overwritten object's slow copy land there after its replacement's
/// (test_cluster_tier_key_order). Within a node `TasksInFlight` (TieringService) did it already.
/// Rows whose group is NULL (a value the column's function cannot read) wait for nobody.
extension PostgresIndex: IndexClaims {
    /// Rows read per page while looking for entries `accept` takes.
    static let claimScanPageSize = 256

    /// The lease condition every claim and scan shares.
    private static let unclaimed = "(lease_until IS NULL OR lease_until < now())"

    /// What a row of `table` (aliased `c`) must meet besides `unclaimed` to be claimed: for tier
    /// tasks, no other task of its key group ahead of it or running; nothing for other tables.
    private func turn(_ table: Table, _ sql: String) -> String {
        guard table.name == IndexTable.tasks.rawValue else { return "" }
        let group = ClusterSchema.taskKeyGroupColumn
        return """
             AND NOT EXISTS (SELECT 1 FROM \(sql) e WHERE e.\(group) = c.\(group) AND e.k <> c.k
                AND (e.k < c.k OR e.lease_until >= now()))
            """
    }

    public func claim(
        _ table: Table, through: [UInt8]?, limit: Int, scanLimit: Int,
        accept: ((_ key: [UInt8], _ value: [UInt8]) throws -> Bool)?
    ) throws -> [ClaimedEntry] {
        guard limit > 0 else { return [] }
        let sql = sqlName(table)
        guard let accept else {
            // The whole claim is one statement: the oldest unclaimed rows, locked as they are
            // found (skipping those another node holds locked), then leased.
            var binds = [PostgresData(string: claimant), PostgresData(double: leaseSeconds)]
            var bound = ""
            if let through {
                binds.append(PostgresData(bytes: through))
                bound = "k <= $3 AND "
            }
            return try claimed(
                """
                UPDATE \(sql) SET claimed_by = $1, lease_until = now() + make_interval(secs => $2)
                WHERE k IN (SELECT k FROM \(sql) c WHERE \(bound)\(Self.unclaimed)\(turn(table, sql))
                    ORDER BY k LIMIT \(limit) FOR UPDATE SKIP LOCKED)
                RETURNING k, v
                """, binds, operation: "claiming entries of \(table.name)")
        }
        // A filter the database cannot apply (a task's tier is inside its encoded value): pages of
        // unclaimed rows are read without locks and filtered here, then exactly the accepted keys
        // are claimed, each only if it is still unclaimed when locked.
        var chosen: [[UInt8]] = []
        var after: [UInt8]? = nil
        var scanned = 0
        scanning: while chosen.count < limit && scanned < scanLimit {
            var binds: [PostgresData] = []
            var conditions = [Self.unclaimed]
            if let after {
                binds.append(PostgresData(bytes: after))
                conditions.append("k > $\(binds.count)")
            }
            if let through {
                binds.append(PostgresData(bytes: through))
                conditions.append("k <= $\(binds.count)")
            }
            let rows = try autocommit(
                """
                SELECT k, v FROM \(sql) c WHERE \(conditions.joined(separator: " AND "))\(turn(table, sql))
                ORDER BY k LIMIT \(Self.claimScanPageSize)
                """,
                binds, operation: "reading claimable entries of \(table.name)")
            var count = 0
            for row in rows {
                count += 1
                scanned += 1
                let key = try Self.bytes(row, column: 0)
                if try accept(key, try Self.bytes(row, column: 1)) { chosen.append(key) }
                after = key
                if chosen.count == limit || scanned >= scanLimit { break scanning }
            }
            if count < Self.claimScanPageSize { break }
        }
        guard !chosen.isEmpty else { return [] }
        return try claimed(
            """
            UPDATE \(sql) SET claimed_by = $1, lease_until = now() + make_interval(secs => $2)
            WHERE k IN (SELECT k FROM \(sql) c WHERE k = ANY($3) AND \(Self.unclaimed)\(turn(table, sql))
                FOR UPDATE SKIP LOCKED)
            RETURNING k, v
            """,
            [PostgresData(string: claimant), PostgresData(double: leaseSeconds), Self.keyArray(chosen)],
            operation: "claiming entries of \(table.name)")
    }

    public func renew(_ table: Table, keys: [[UInt8]]) throws -> Set<[UInt8]> {
        guard !keys.isEmpty else { return [] }
        let rows = try autocommit(
            """
            UPDATE \(sqlName(table)) SET lease_until = now() + make_interval(secs => $2)
            WHERE k = ANY($3) AND claimed_by = $1 AND lease_until >= now()
            RETURNING k
            """, [PostgresData(string: claimant), PostgresData(double: leaseSeconds), Self.keyArray(keys)],
            operation: "renewing claims on \(table.name)")
        return Set(try rows.map { try Self.bytes($0, column: 0) })
    }

    public func release(_ table: Table, keys: [[UInt8]]) throws {
        guard !keys.isEmpty else { return }
        try autocommit(
            "UPDATE \(sqlName(table)) SET claimed_by = NULL, lease_until = NULL WHERE k = ANY($2) AND claimed_by = $1",
            [PostgresData(string: claimant), Self.keyArray(keys)], operation: "releasing claims on \(table.name)")
    }

    @discardableResult
    public func remove(_ table: Table, keys: [[UInt8]]) throws -> Int {
        guard !keys.isEmpty else { return 0 }
        return try autocommit(
            "DELETE FROM \(sqlName(table)) WHERE k = ANY($1) RETURNING 1", [Self.keyArray(keys)],
            operation: "removing entries of \(table.name)"
        ).count
    }

    /// Runs a claim statement and returns its rows in key order (RETURNING has no order).
    private func claimed(_ sql: String, _ binds: [PostgresData], operation: String) throws -> [ClaimedEntry] {
        let rows = try autocommit(sql, binds, operation: operation)
        return try rows.map { ClaimedEntry(key: try Self.bytes($0, column: 0), value: try Self.bytes($0, column: 1)) }
            .sorted { $0.key.lexicographicallyPrecedes($1.key) }
    }

    /// One statement on a pooled connection, outside any transaction.
    @discardableResult
    private func autocommit(_ sql: String, _ binds: [PostgresData], operation: String) throws -> PostgresQueryResult {
        let connection = try connections.take()
        var usable = true
        defer { connections.giveBack(connection, usable: usable) }
        do {
            return try BlockingPostgres.wait(connection.query(sql, binds), seconds: timeout, operation: operation)
        } catch let error as PostgresIndexError {
            usable = error.connectionIsUsable
            throw error
        }
    }

    private static func keyArray(_ keys: [[UInt8]]) -> PostgresData {
        PostgresData(array: keys.map { PostgresData(bytes: $0) }, elementType: .bytea)
    }

    private static func bytes(_ row: PostgresRow, column: Int) throws -> [UInt8] {
        let cells = row.makeRandomAccess()
        guard var buffer = try cells[column].decode(ByteBuffer?.self) else { return [] }
        return buffer.readBytes(length: buffer.readableBytes) ?? []
    }
}
