import DepotStorage

/// Tiers and policies made through the admin API, kept in the index as opaque documents keyed
/// `<kind>/<name>`: the configuration part owns their shape and merges them over the file's.
/// Logged too (KeyedItems.swift), so a rebuilt index brings them back.
extension Engine {
    public func storedSettings(kind: String) throws -> [(name: String, document: [UInt8])] {
        let table = indexStore.table(.settings)
        let prefix = Array((kind + "/").utf8)
        return try indexStore.read { txn in
            var out: [(String, [UInt8])] = []
            try txn.scan(table, from: prefix) { key, value in
                guard key.starts(with: prefix) else { return false }
                out.append((String(decoding: key.dropFirst(prefix.count), as: UTF8.self), Array(value)))
                return true
            }
            return out
        }
    }

    public func storeSetting(kind: String, name: String, document: [UInt8]) async throws {
        try await writeKeyedItem(table: .settings, key: kind + "/" + name, value: document)
    }

    @discardableResult
    public func removeSetting(kind: String, name: String) async throws -> Bool {
        try await writeKeyedItem(table: .settings, key: kind + "/" + name, value: nil)
    }
}
