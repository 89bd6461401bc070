import DepotStorage

/// Accounts managed at run time (`depot account add`), kept in the index beside those of the
/// configuration file. The engine stores them as opaque bytes; the configuration part owns
/// their shape. Index-only: a rebuilt index does not bring them back.
extension Engine {
    public func storedAccounts() throws -> [(accessKey: String, value: [UInt8])] {
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

    public func storeAccount(accessKey: String, value: [UInt8]) async throws {
        let table = environment.table("accounts")
        do {
            try await committer.submit { txn, _ in try txn.put(table, Array(accessKey.utf8), value) }
        } catch { throw EngineError.wrap(error) }
    }

    @discardableResult
    public func removeStoredAccount(accessKey: String) async throws -> Bool {
        let table = environment.table("accounts")
        do {
            return try await committer.submit { txn, _ in try txn.delete(table, Array(accessKey.utf8)) }
        } catch { throw EngineError.wrap(error) }
    }
}
