import DepotStorage

/// The one write path of the index items kept in the segment log as well (`Tables.logged`:
/// stored accounts, admin-made tiers, policies and replication jobs), so that
/// `depot fsck --rebuild-index` brings them back: each change appends a `.keyedItem` record and
/// writes the table in the same commit, so it is durable in both before it is acknowledged.
extension Engine {
    /// Sets `key` of `table` to `value`, or removes it (nil). Returns whether anything changed;
    /// an unchanged item writes no record.
    @discardableResult
    func writeKeyedItem(table which: IndexTable, key: String, value: [UInt8]?) async throws -> Bool {
        let name = which.rawValue
        assert(Tables.logs(table: name, key: key), "\(name)/\(key) is not an item of a logged table")
        let table = indexStore.table(which)
        do {
            return try await committer.submit { txn, context in
                let indexKey = Array(key.utf8)
                guard try txn.get(table, indexKey) != value else { return false }
                _ = try context.log(.keyedItem(table: name, key: key, value: value))
                if let value { try txn.put(table, indexKey, value) } else { _ = try txn.delete(table, indexKey) }
                return true
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// The meta key saying every logged item of the index has its log record.
    static let keyedItemsLoggedKey = Array("keyedItemsLogged".utf8)

    /// Items an index made before they were logged have no record: at the first start with
    /// this version each gets one (the accounts as they are stored, sealed), once, so a later
    /// rebuild keeps them too; not while an account is still in clear (`sealStoredAccounts`
    /// seals those at the server's start, before this). Blocks until that commit is durable.
    func logKeyedItemsIfNeeded() throws {
        let metaTable = meta
        if try indexStore.read({ txn in try txn.contains(metaTable, Self.keyedItemsLoggedKey) }) { return }
        let tables = Tables.logged.sorted().map { ($0, indexStore.table($0)) }
        let logged: Int = try committer.submitAndWait { txn, context in
            guard try !txn.contains(metaTable, Self.keyedItemsLoggedKey) else { return 0 }
            var items: [(table: String, key: String, value: [UInt8])] = []
            var clearAccounts = false
            for (name, table) in tables {
                try txn.scan(table) { key, value in
                    let itemKey = String(decoding: key, as: UTF8.self)
                    guard Tables.logs(table: name, key: itemKey) else { return true }
                    items.append((name, itemKey, Array(value)))
                    clearAccounts = clearAccounts || (name == IndexTable.accounts.rawValue && !Engine.isSealed(items.last!.value))
                    return true
                }
            }
            // An account an earlier version kept in clear must never reach a segment: a command
            // that opens the index before the server's start has sealed it leaves it all for then.
            if clearAccounts { return 0 }
            for item in items { _ = try context.log(.keyedItem(table: item.table, key: item.key, value: item.value)) }
            try txn.put(metaTable, Self.keyedItemsLoggedKey, [1])
            return items.count
        }
        if logged > 0 { logger.notice("logged \(logged) stored account and setting item(s) so a rebuilt index keeps them") }
    }
}
