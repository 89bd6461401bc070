import DepotHashing
import DepotStorage

/// Accounts managed at run time (`depot account add`, the admin API), kept in the index beside
/// those of the configuration file. The engine stores them as opaque bytes; the configuration
/// part owns their shape. Logged too, sealed as stored (KeyedItems.swift), so a rebuilt index
/// brings them back and no segment file holds a secret in clear.
///
/// A record holds the account's secret key, which SigV4 needs in clear, so it is sealed with
/// AES-256-GCM under `<data>/secrets-key` (see `SecretsKey`), with the access key as associated
/// data so a sealed record cannot be moved to another key. Records written before sealing
/// (clear JSON) are still read, and `sealStoredAccounts` rewrites them sealed at start
/// (StoredAccountSealing.swift).
extension Engine {
    /// What starts a sealed record; a clear one is JSON and starts with `{`.
    static let sealedAccountMarker = Array("DPTSEAL1".utf8)

    /// The stored accounts that can be read: clear ones, and sealed ones the key opens. Those
    /// the key does not open (lost or replaced `secrets-key`) are left out, and so refused.
    public func storedAccounts() throws -> [(accessKey: String, value: [UInt8])] {
        let key = SecretsKey.load(configuration)
        return try rawStoredAccounts().compactMap { accessKey, value in
            guard Self.isSealed(value) else { return (accessKey, value) }
            guard let key, let opened = Self.openSealed(value, accessKey: accessKey, key: key) else { return nil }
            return (accessKey, opened)
        }
    }

    public func storeAccount(accessKey: String, value: [UInt8]) async throws {
        let sealed = try Self.sealAccount(
            value, accessKey: accessKey, key: SecretsKey.loadOrCreate(configuration))
        try await writeKeyedItem(table: .accounts, key: accessKey, value: sealed)
    }

    @discardableResult
    public func removeStoredAccount(accessKey: String) async throws -> Bool {
        try await writeKeyedItem(table: .accounts, key: accessKey, value: nil)
    }

    private func rawStoredAccounts() throws -> [(accessKey: String, value: [UInt8])] {
        try Self.rawStoredAccounts(in: indexStore)
    }

    static func rawStoredAccounts(in indexStore: any IndexStore) throws -> [(accessKey: String, value: [UInt8])] {
        let table = indexStore.table(.accounts)
        return try indexStore.read { txn in
            var out: [(String, [UInt8])] = []
            try txn.scan(table) { key, value in
                out.append((String(decoding: key, as: UTF8.self), Array(value)))
                return true
            }
            return out
        }
    }

    static func sealAccount(_ value: [UInt8], accessKey: String, key: [UInt8]) throws -> [UInt8] {
        do {
            return Self.sealedAccountMarker + (try AES256GCM.seal(value, key: key, associatedData: Array(accessKey.utf8)))
        } catch { throw EngineError.io("cannot seal the account record of \(accessKey): \(error)") }
    }

    static func isSealed(_ value: [UInt8]) -> Bool { value.starts(with: sealedAccountMarker) }

    static func openSealed(_ value: [UInt8], accessKey: String, key: [UInt8]) -> [UInt8]? {
        try? AES256GCM.open(Array(value.dropFirst(sealedAccountMarker.count)), key: key, associatedData: Array(accessKey.utf8))
    }
}
