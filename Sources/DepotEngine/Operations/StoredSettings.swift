import DepotHashing
import DepotStorage

/// Tiers and policies made through the admin API, kept in the index as opaque documents keyed
/// `<kind>/<name>`: the configuration part owns their shape and merges them over the file's.
/// Logged too (KeyedItems.swift), so a rebuilt index brings them back.
///
/// Cluster mode seals them (AES-256-GCM, the `<kind>/<name>` key as associated data), because
/// they hold secrets (a tier's secret key, a sink's signing secret) and the shared database and
/// the packs the log goes to may be read by people who must not learn them: the key derives from
/// the cluster's account sealing key (ClusterKey.swift), which every node has and the database
/// does not. Embedded mode stores them as before; a document stored in clear is always read.
extension Engine {
    public func storedSettings(kind: String) throws -> [(name: String, document: [UInt8])] {
        let table = indexStore.table(.settings)
        let prefix = Array((kind + "/").utf8)
        let sealing = settingsSealingKey
        return try indexStore.read { txn in
            var out: [(String, [UInt8])] = []
            try txn.scan(table, from: prefix) { key, value in
                guard key.starts(with: prefix) else { return false }
                let name = String(decoding: key.dropFirst(prefix.count), as: UTF8.self)
                let stored = Array(value)
                if !Self.isSealed(stored) {
                    out.append((name, stored))
                } else if let sealing, let opened = Self.openSealed(stored, accessKey: kind + "/" + name, key: sealing) {
                    out.append((name, opened))
                }  // else: sealed with another cluster's key; left out, as accounts are
                return true
            }
            return out
        }
    }

    public func storeSetting(kind: String, name: String, document: [UInt8]) async throws {
        let key = kind + "/" + name
        let value = try settingsSealingKey.map { try Self.sealAccount(document, accessKey: key, key: $0) } ?? document
        try await writeKeyedItem(table: .settings, key: key, value: value)
    }

    @discardableResult
    public func removeSetting(kind: String, name: String) async throws -> Bool {
        try await writeKeyedItem(table: .settings, key: kind + "/" + name, value: nil)
    }

    /// Cluster mode's key for settings documents: its own, derived from the account sealing key,
    /// so a sealed account record can never be passed off as a document or the other way round.
    var settingsSealingKey: [UInt8]? {
        configuration.accountSealingKey.map { HMAC.sha256(key: $0, message: Array("depot-settings-sealing".utf8)) }
    }
}
