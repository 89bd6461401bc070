import DepotStorage

/// A change of an account's usage counters, signed (a delete through one node of an object
/// stored through another takes that node's shard below zero).
struct UsageChange: Equatable {
    var bytes: Int64 = 0
    var objects: Int64 = 0
    var uploading: Int64 = 0

    static func += (lhs: inout UsageChange, rhs: UsageChange) {
        lhs.bytes &+= rhs.bytes
        lhs.objects &+= rhs.objects
        lhs.uploading &+= rhs.uploading
    }
}

extension StorageUsage {
    /// This usage changed by `change`, no counter below zero.
    func applying(_ change: UsageChange) -> StorageUsage {
        func moved(_ value: UInt64, _ by: Int64) -> UInt64 { UInt64(max(0, Int64(clamping: value) &+ by)) }
        return StorageUsage(
            bytes: moved(bytes, change.bytes), objects: moved(objects, change.objects),
            uploading: moved(uploading, change.uploading))
    }
}

/// The rows of the `usage` table.
///
/// Embedded mode: one row per account, key = the access key, value = `StorageUsage`, each commit
/// reading and rewriting it. Cluster mode: every PUT and DELETE of an account changes its usage,
/// so one row per account written by every node's batches made concurrent nodes conflict
/// (serialization failures, re-runs, 503 SlowDown). There each node adds its changes to a shard
/// of its own, key = access key, 0x00, node name (`IndexClaims.claimant`), value = the signed
/// sum of the changes made through that node (three zigzag varints); readers add the account's
/// row (counted at start, `countUsageIfNeeded`) and its shards. Access keys hold no 0x00, so an
/// account's shards are exactly the keys under `owner + 0x00`.
enum UsageRows {
    static func ownerKey(_ owner: String) -> [UInt8] { Array(owner.utf8) }

    static func shardPrefix(_ owner: String) -> [UInt8] { Array(owner.utf8) + [0] }

    static func shardKey(owner: String, node: String) -> [UInt8] { shardPrefix(owner) + Array(node.utf8) }

    static func encodeShard(_ change: UsageChange) -> [UInt8] {
        var w = BinaryWriter(capacity: 30)
        w.signed(change.bytes)
        w.signed(change.objects)
        w.signed(change.uploading)
        return w.bytes
    }

    static func decodeShard(_ bytes: [UInt8]) throws -> UsageChange {
        try bytes.decode { r in UsageChange(bytes: try r.signed(), objects: try r.signed(), uploading: try r.signed()) }
    }

    /// Whether a `usage` key is a node's shard rather than an account's row.
    static func isShard(_ key: UnsafeRawBufferPointer) -> Bool { key.contains(0) }
}

extension Engine {
    /// Cluster mode: this node's name on the rows each node keeps its own of, so that no row is
    /// written by every node's batches (usage shards here, the Object Lock clock); nil in
    /// embedded mode (one row each).
    var nodeShard: String? { indexStore.claims?.claimant }

    /// What `owner` owns in `txn`'s view: its row plus, in cluster mode, its nodes' shards.
    static func usage(of owner: String, table: Table, sharded: Bool, txn: borrowing Transaction) throws -> StorageUsage {
        let row = try txn.get(table, UsageRows.ownerKey(owner)).map(StorageUsage.decode) ?? StorageUsage()
        guard sharded else { return row }
        var sum = UsageChange()
        let prefix = UsageRows.shardPrefix(owner)
        try txn.scan(table, from: prefix) { key, value in
            guard key.starts(with: prefix) else { return false }
            sum += try UsageRows.decodeShard(Array(value))
            return true
        }
        return row.applying(sum)
    }

    /// Changes `owner`'s usage by `change` in the commit's transaction. `check`, when given, sees
    /// the account's new total first and may refuse the change by throwing (the quota). Cluster
    /// mode writes only this node's shard, and reads the other shards only for `check`: reading a
    /// row another node writes does not make two REPEATABLE READ transactions conflict, so a
    /// quota is checked against a snapshot there and concurrent nodes may pass it by what they
    /// commit side by side (at most one batch per node).
    func changeUsage(
        of owner: String, by change: UsageChange, txn: borrowing Transaction,
        check: ((StorageUsage) throws -> Void)? = nil
    ) throws {
        let table = usageTable
        guard let shard = nodeShard else {
            let next = try Self.usage(of: owner, table: table, sharded: false, txn: txn).applying(change)
            try check?(next)
            try Self.store(next, of: owner, table: table, txn: txn)
            return
        }
        if let check { try check(try Self.usage(of: owner, table: table, sharded: true, txn: txn).applying(change)) }
        let key = UsageRows.shardKey(owner: owner, node: shard)
        var sum = try txn.get(table, key).map(UsageRows.decodeShard) ?? UsageChange()
        sum += change
        if sum == UsageChange() {
            _ = try txn.delete(table, key)
        } else {
            try txn.put(table, key, UsageRows.encodeShard(sum))
        }
    }
}
