import DepotHashing
import DepotStorage

/// Accounts managed at run time (`depot account add`, the admin API), kept in the index beside
/// those of the configuration file. The engine stores them as opaque bytes; the configuration
/// part owns their shape. Index-only: a rebuilt index does not bring them back.
///
/// A record holds the account's secret key, which SigV4 needs in clear, so it is sealed with
/// AES-256-GCM under `<data>/secrets-key` (see `SecretsKey`), with the access key as associated
/// data so a sealed record cannot be moved to another key. Records written before sealing
/// (clear JSON) are still read, and `sealStoredAccounts` rewrites them sealed at start.
extension Engine {
    /// What starts a sealed record; a clear one is JSON and starts with `{`.
    static let sealedAccountMarker = Array("DPTSEAL1".utf8)

    /// The stored accounts that can be read: clear ones, and sealed ones the key opens. Those
    /// the key does not open (lost or replaced `secrets-key`) are left out, and so refused.
    public func storedAccounts() throws -> [(accessKey: String, value: [UInt8])] {
        let key = SecretsKey.load(dataDirectory: configuration.dataDirectory)
        return try rawStoredAccounts().compactMap { accessKey, value in
            guard Self.isSealed(value) else { return (accessKey, value) }
            guard let key, let opened = Self.openSealed(value, accessKey: accessKey, key: key) else { return nil }
            return (accessKey, opened)
        }
    }

    public func storeAccount(accessKey: String, value: [UInt8]) async throws {
        let table = environment.table("accounts")
        let sealed = try sealAccount(
            value, accessKey: accessKey, key: SecretsKey.loadOrCreate(dataDirectory: configuration.dataDirectory))
        do {
            try await committer.submit { txn, _ in try txn.put(table, Array(accessKey.utf8), sealed) }
        } catch { throw EngineError.wrap(error) }
    }

    @discardableResult
    public func removeStoredAccount(accessKey: String) async throws -> Bool {
        let table = environment.table("accounts")
        do {
            return try await committer.submit { txn, _ in try txn.delete(table, Array(accessKey.utf8)) }
        } catch { throw EngineError.wrap(error) }
    }

    /// Run once at start: seals the records still kept in clear, and logs the access keys of
    /// sealed records that the key file does not open (they are refused until `secrets-key`
    /// is restored, or they are added again under the same access key, or removed offline).
    /// Never fails the start for an unreadable record.
    @discardableResult
    public func sealStoredAccounts() throws -> (sealed: Int, unreadable: [String]) {
        let records = try rawStoredAccounts()
        let key = SecretsKey.load(dataDirectory: configuration.dataDirectory)
        let unreadable = records.filter { accessKey, value in
            Self.isSealed(value) && (key.map { Self.openSealed(value, accessKey: accessKey, key: $0) == nil } ?? true)
        }.map(\.accessKey)
        if !unreadable.isEmpty {
            logger.error(
                """
                \(unreadable.count) stored account(s) cannot be decrypted and are refused: \
                \(SecretsKey.path(dataDirectory: configuration.dataDirectory)) is missing or is not the key they were \
                sealed with. Restore that file; or add each again under the same access key (admin API or \
                `depot account add`), or delete it with `depot account remove KEY --data DIR` while the server \
                is stopped. Access keys: \
                \(unreadable.sorted().joined(separator: ", "))
                """)
        }
        let clear = records.filter { !Self.isSealed($0.value) }
        guard !clear.isEmpty else { return (0, unreadable) }
        let sealingKey = try SecretsKey.loadOrCreate(dataDirectory: configuration.dataDirectory)
        let sealed = try clear.map { ($0.accessKey, try sealAccount($0.value, accessKey: $0.accessKey, key: sealingKey)) }
        let table = environment.table("accounts")
        try environment.write { txn in
            for (accessKey, value) in sealed { try txn.put(table, Array(accessKey.utf8), value) }
        }
        logger.notice("sealed \(sealed.count) stored account record(s) that were kept in clear")
        return (sealed.count, unreadable)
    }

    private func rawStoredAccounts() throws -> [(accessKey: String, value: [UInt8])] {
        let table = environment.table("accounts")
        return try environment.read { txn in
            var out: [(String, [UInt8])] = []
            try txn.scan(table) { key, value in
                out.append((String(decoding: key, as: UTF8.self), Array(value)))
                return true
            }
            return out
        }
    }

    private func sealAccount(_ value: [UInt8], accessKey: String, key: [UInt8]) throws -> [UInt8] {
        do {
            return Self.sealedAccountMarker + (try AES256GCM.seal(value, key: key, associatedData: Array(accessKey.utf8)))
        } catch { throw EngineError.io("cannot seal the account record of \(accessKey): \(error)") }
    }

    static func isSealed(_ value: [UInt8]) -> Bool { value.starts(with: sealedAccountMarker) }

    static func openSealed(_ value: [UInt8], accessKey: String, key: [UInt8]) -> [UInt8]? {
        try? AES256GCM.open(Array(value.dropFirst(sealedAccountMarker.count)), key: key, associatedData: Array(accessKey.utf8))
    }
}
