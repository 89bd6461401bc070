import DepotHashing

/// SSE-C: the client sends its own 256-bit key with every request. The key acts as the data
/// key of a domain of its own (EncryptionDomain, the same sealing as SSE-S3), so an SSE-C chunk
/// never deduplicates with plaintext, SSE-S3/KMS or another customer key's chunks. The key is
/// never stored: the object's `x-depot-sse-key` holds `customer:<salt>:<HMAC-SHA256(salt, key)>`
/// (a random salt per object), enough to tell the right key from a wrong one on GET and HEAD.
public enum CustomerKeyEncryption {
    /// The `x-depot-sse` label of an SSE-C object.
    public static let algorithm = "SSE-C"
    static let keyIdPrefix = "customer:"

    /// Why a customer-key object cannot be read with what the request carried.
    public enum Refusal: Error, Sendable, Equatable {
        /// The request carried no key for an SSE-C object.
        case keyRequired
        /// The request's key is not the object's.
        case wrongKey
    }

    /// The encryption record and the domain of a new object under `customerKey` (32 bytes).
    public static func newObject(customerKey: [UInt8]) -> (ObjectEncryption, EncryptionDomain) {
        precondition(customerKey.count == AES256GCM.keySize, "a customer key is 32 bytes")
        let salt = secureRandomBytes(16)
        let keyId = keyIdPrefix + hex(salt) + ":" + hex(HMAC.sha256(key: salt, message: customerKey))
        return (ObjectEncryption(algorithm: algorithm, keyId: keyId), domain(keyId: keyId, customerKey: customerKey))
    }

    /// Whether an object's encryption is SSE-C.
    public static func isCustomerKey(_ encryption: ObjectEncryption?) -> Bool {
        encryption?.keyId.hasPrefix(keyIdPrefix) == true
    }

    /// Checks `customerKey` against an SSE-C object's (or upload's) record, throwing the refusal.
    public static func check(_ encryption: ObjectEncryption, customerKey: [UInt8]?) throws(Refusal) {
        _ = try domain(of: encryption, customerKey: customerKey)
    }

    /// The domain of an SSE-C object's chunks, after checking `customerKey` against the record.
    static func domain(of encryption: ObjectEncryption, customerKey: [UInt8]?) throws(Refusal) -> EncryptionDomain {
        guard let customerKey else { throw .keyRequired }
        let parts = encryption.keyId.dropFirst(keyIdPrefix.count).split(separator: ":").map(String.init)
        guard parts.count == 2, let salt = unhex(parts[0]),
            constantTimeEqual(hex(HMAC.sha256(key: salt, message: customerKey)), parts[1])
        else { throw .wrongKey }
        return domain(keyId: encryption.keyId, customerKey: customerKey)
    }

    /// The domain key derives from the customer key alone (not the salt), so objects under the
    /// same customer key deduplicate with each other and with nothing else.
    private static func domain(keyId: String, customerKey: [UInt8]) -> EncryptionDomain {
        EncryptionDomain(keyId: keyId, dataKey: HMAC.sha256(key: customerKey, message: Array("depot-sse-c-domain".utf8)))
    }

    private static func hex(_ bytes: [UInt8]) -> String { Hex.encode(bytes) }
    private static func unhex(_ text: String) -> [UInt8]? { Hex.decode(text) }

    private static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let (x, y) = (Array(a.utf8), Array(b.utf8))
        guard x.count == y.count else { return false }
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }
}
