import DepotHashing

/// One encryption domain: the data key (DEK) of one master key id. Chunks of encrypted objects
/// are convergent within a domain: a chunk's address, key and nonce all derive from the DEK and
/// its plaintext SHA-256, so identical chunks in the same domain deduplicate, while the index and
/// the segments only ever see the address (an HMAC under the DEK), never the plaintext hash, and
/// a plaintext chunk or another domain's chunk of the same bytes has a different address.
///
/// The key and nonce derive from the address (itself a keyed function of the plaintext hash),
/// because a reader knows the address from the manifest and nothing else. Each derived key
/// encrypts exactly one plaintext, so the fixed nonce under it never repeats for different bytes.
public struct EncryptionDomain: Sendable {
    public let keyId: String
    let dataKey: [UInt8]

    init(keyId: String, dataKey: [UInt8]) {
        self.keyId = keyId
        self.dataKey = dataKey
    }

    /// The chunk's index key and segment record hash.
    func address(ofPlaintextHash hash: [UInt8]) -> [UInt8] {
        HMAC.sha256(key: dataKey, message: Array("chunk-address".utf8) + hash)
    }

    private func keyAndNonce(address: [UInt8]) -> (key: [UInt8], nonce: [UInt8]) {
        let key = HMAC.sha256(key: dataKey, message: Array("chunk-key".utf8) + address)
        let nonce = HMAC.sha256(key: dataKey, message: Array("chunk-nonce".utf8) + address)
        return (key, Array(nonce.prefix(AES256GCM.nonceSize)))
    }

    /// The record payload of a chunk: ciphertext + tag.
    func seal(_ chunk: UnsafeRawBufferPointer, address: [UInt8]) throws -> [UInt8] {
        let (key, nonce) = keyAndNonce(address: address)
        do {
            let (ciphertext, tag) = try AES256GCM.encrypt(Array(chunk), key: key, nonce: nonce, associatedData: address)
            return ciphertext + tag
        } catch { throw EngineError.io("encrypting a chunk: \(error)") }
    }

    /// The plaintext of a chunk record, after its tag is checked (throws otherwise).
    func open(_ payload: [UInt8], address: [UInt8]) throws(AES256GCM.Failure) -> [UInt8] {
        guard payload.count >= AES256GCM.tagSize else { throw .truncated }
        let (key, nonce) = keyAndNonce(address: address)
        let split = payload.count - AES256GCM.tagSize
        return try AES256GCM.decrypt(
            Array(payload[..<split]), tag: Array(payload[split...]), key: key, nonce: nonce, associatedData: address)
    }

    /// The wrapped form kept in the index and the log: AES-256-GCM under the master key, the
    /// key id as associated data (a wrapped key cannot be passed off as another id's).
    static func wrap(_ dataKey: [UInt8], keyId: String, masterKey: [UInt8]) throws -> [UInt8] {
        do {
            return try AES256GCM.seal(dataKey, key: masterKey, associatedData: wrapContext(keyId))
        } catch { throw EngineError.io("wrapping the data key of encryption key \(keyId): \(error)") }
    }

    static func unwrap(_ wrapped: [UInt8], keyId: String, masterKey: [UInt8]) throws -> EncryptionDomain {
        do {
            let dataKey = try AES256GCM.open(wrapped, key: masterKey, associatedData: wrapContext(keyId))
            return EncryptionDomain(keyId: keyId, dataKey: dataKey)
        } catch {
            // Names the configuration field: in cluster mode every node must be given the same
            // master keys, and a node given another file stops here at its start.
            throw EngineError.io(
                "encryption.keys (id \(keyId)): the data key of encryption key \(keyId) does not open with the configured key (another key file or variable than the one it was made with? every node of a cluster needs the same)"
            )
        }
    }

    private static func wrapContext(_ keyId: String) -> [UInt8] { Array("depot-dek:\(keyId)".utf8) }
}
