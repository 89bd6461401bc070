import DepotEngine
import Foundation

/// Accounts kept in the index (`depot account add`), encoded as JSON.
public enum StoredAccounts {
    public static func load(_ engine: Engine) throws -> [Account] {
        try engine.storedAccounts().compactMap { try? JSONDecoder().decode(Account.self, from: Data($0.value)) }
    }

    public static func save(_ account: Account, in engine: Engine) async throws {
        try await engine.storeAccount(accessKey: account.accessKey, value: Array(try JSONEncoder().encode(account)))
    }
}
