import DepotStorage

/// Tiers and policies made through the admin API, kept in the index as opaque documents keyed
/// `<kind>/<name>`: the configuration part owns their shape and merges them over the file's.
/// Index-only, like stored accounts: a rebuilt index does not bring them back.
extension Engine {
    public func storedSettings(kind: String) throws -> [(name: String, document: [UInt8])] {
        let table = environment.table("settings")
        let prefix = Array((kind + "/").utf8)
        return try environment.read { txn in
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
        let table = environment.table("settings")
        do {
            try await committer.submit { txn, _ in try txn.put(table, Array((kind + "/" + name).utf8), document) }
        } catch { throw EngineError.wrap(error) }
    }

    @discardableResult
    public func removeSetting(kind: String, name: String) async throws -> Bool {
        let table = environment.table("settings")
        do {
            return try await committer.submit { txn, _ in try txn.delete(table, Array((kind + "/" + name).utf8)) }
        } catch { throw EngineError.wrap(error) }
    }
}
