import DepotHashing
import DepotStorage
import Synchronization

/// The unwrapped data keys met so far, so a read or an upload unwraps each once per process.
final class EncryptionDomainCache: Sendable {
    let domains = Mutex<[String: EncryptionDomain]>([:])
}

extension Engine {
    /// The index key of a domain's wrapped data key (meta table).
    static func domainKey(_ keyId: String) -> [UInt8] { Array("sse-domain/\(keyId)".utf8) }

    /// The domain of a configured master key, creating its data key on first use: a random DEK,
    /// wrapped by the master key, logged (a rebuilt index restores it) and stored in one commit.
    /// Throws `invalidRequest` for a key id the configuration does not have.
    public func encryptionDomain(keyId: String) async throws -> EncryptionDomain {
        if let domain = try existingEncryptionDomain(keyId: keyId) { return domain }
        guard let masterKey = configuration.encryption.key(keyId) else {
            throw EngineError.invalidRequest("no encryption key \(keyId) is configured")
        }
        let fresh = secureRandomBytes(AES256GCM.keySize)
        let wrapped = try EncryptionDomain.wrap(fresh, keyId: keyId, masterKey: masterKey)
        let table = meta
        let stored: [UInt8]
        do {
            // Two first uploads at once: the first commit's key wins, the second uses it.
            stored = try await committer.submit { txn, context in
                if let existing = try txn.get(table, Engine.domainKey(keyId)) { return Array(existing) }
                _ = try context.log(.encryptionDomain(keyId: keyId, wrappedKey: wrapped))
                try txn.put(table, Engine.domainKey(keyId), wrapped)
                return wrapped
            }
        } catch { throw EngineError.wrap(error) }
        let domain = try EncryptionDomain.unwrap(stored, keyId: keyId, masterKey: masterKey)
        encryptionDomainCache.domains.withLock { $0[keyId] = domain }
        return domain
    }

    /// Makes sure every configured key's domain exists, so `preparedEncryptionDomain` can answer
    /// without waiting (a POST form learns its encryption inside the synchronous form parser).
    public func prepareEncryptionDomains() async throws {
        for keyId in configuration.encryption.keys.keys.sorted() { _ = try await encryptionDomain(keyId: keyId) }
    }

    /// The domain of a configured key after `prepareEncryptionDomains`; throws if it is missing.
    public func preparedEncryptionDomain(keyId: String) throws -> EncryptionDomain {
        guard let domain = try existingEncryptionDomain(keyId: keyId) else {
            throw EngineError.invalidRequest("the encryption domain of key \(keyId) is not prepared")
        }
        return domain
    }

    /// The domain of `keyId` if its data key exists; nil when nothing was encrypted with it yet.
    /// Throws when the key is not configured (any more) or does not open the stored data key.
    public func existingEncryptionDomain(keyId: String) throws -> EncryptionDomain? {
        if let cached = encryptionDomainCache.domains.withLock({ $0[keyId] }) { return cached }
        let table = meta
        guard let wrapped = try indexStore.read({ txn in try txn.get(table, Engine.domainKey(keyId)).map(Array.init) })
        else { return nil }
        guard let masterKey = configuration.encryption.key(keyId) else {
            throw EngineError.io("objects are encrypted with key \(keyId), which the configuration does not have")
        }
        let domain = try unwrapDomain(wrapped, keyId: keyId, masterKey: masterKey).domain
        encryptionDomainCache.domains.withLock { $0[keyId] = domain }
        return domain
    }

    /// Opens a wrapped data key with the current master key, else with one of the id's previous
    /// keys (`rotated` says so); throws when none opens it.
    private func unwrapDomain(
        _ wrapped: [UInt8], keyId: String, masterKey: [UInt8]
    ) throws -> (domain: EncryptionDomain, rotated: Bool) {
        do {
            return (try EncryptionDomain.unwrap(wrapped, keyId: keyId, masterKey: masterKey), false)
        } catch {
            for previous in configuration.encryption.previousKeys[keyId] ?? [] {
                if let domain = try? EncryptionDomain.unwrap(wrapped, keyId: keyId, masterKey: previous) {
                    return (domain, true)
                }
            }
            throw error
        }
    }

    /// Key rotation: every data key still wrapped by a previous master key of its id is wrapped
    /// again with the current one, logged and stored, so the previous key can then be removed
    /// from the configuration. No object byte is rewritten: the data keys stay the same. Returns
    /// the ids rewrapped.
    public func rewrapEncryptionDomains() async throws -> [String] {
        var rewrapped: [String] = []
        let table = meta
        for (keyId, masterKey) in configuration.encryption.keys.sorted(by: { $0.key < $1.key }) {
            guard let wrapped = try indexStore.read({ txn in try txn.get(table, Engine.domainKey(keyId)).map(Array.init) }),
                try unwrapDomain(wrapped, keyId: keyId, masterKey: masterKey).rotated
            else { continue }
            let domain = try unwrapDomain(wrapped, keyId: keyId, masterKey: masterKey).domain
            let fresh = try EncryptionDomain.wrap(domain.dataKey, keyId: keyId, masterKey: masterKey)
            do {
                try await committer.submit { txn, context in
                    _ = try context.log(.encryptionDomain(keyId: keyId, wrappedKey: fresh))
                    try txn.put(table, Engine.domainKey(keyId), fresh)
                }
            } catch { throw EngineError.wrap(error) }
            encryptionDomainCache.domains.withLock { $0[keyId] = domain }
            rewrapped.append(keyId)
        }
        return rewrapped
    }

    /// Every domain whose data key the configured master keys open (fsck's tag checks).
    func openableEncryptionDomains() throws -> [EncryptionDomain] {
        try configuration.encryption.keys.keys.sorted().compactMap { try? existingEncryptionDomain(keyId: $0) }
    }

    /// The domain of a key whose data key must exist already (chunks were stored in it).
    func encryptionDomain(existing keyId: String) throws -> EncryptionDomain {
        guard let domain = try existingEncryptionDomain(keyId: keyId) else {
            throw EngineError.corrupt("the data key of encryption key \(keyId) is missing")
        }
        return domain
    }

    /// The domain an encrypted object's chunks are in; throws when it cannot be opened.
    /// An SSE-C object's domain comes from `customerKey` (CustomerKeyEncryption.Refusal without it
    /// or with another key).
    func domain(of record: ObjectRecord, bucket: String, key: String, customerKey: [UInt8]? = nil) throws -> EncryptionDomain? {
        guard let encryption = record.encryption else { return nil }
        if CustomerKeyEncryption.isCustomerKey(encryption) {
            return try CustomerKeyEncryption.domain(of: encryption, customerKey: customerKey)
        }
        guard let domain = try existingEncryptionDomain(keyId: encryption.keyId) else {
            throw EngineError.corrupt("\(bucket)/\(key) is encrypted with key \(encryption.keyId), whose data key is missing")
        }
        return domain
    }
}
