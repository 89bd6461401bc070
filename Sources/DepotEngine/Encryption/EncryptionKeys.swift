import DepotHashing

/// The master keys (KEKs) of server-side encryption, from the `encryption:` section of the
/// configuration: each a 32-byte AES-256 key with an id. They never reach the disk; they only
/// wrap the data keys (DEKs) of the encryption domains (EncryptionDomain.swift).
public struct EncryptionKeys: Sendable {
    public var keys: [String: [UInt8]]
    /// The key SSE-S3 (`AES256`) and `aws:kms` without a key id use.
    public var defaultKeyId: String?
    /// Earlier master keys of an id (rotation): data keys still wrapped by one of them open, and
    /// `Engine.rewrapEncryptionDomains` wraps them again with the current key.
    public var previousKeys: [String: [[UInt8]]]
    /// Whether SSE-C keys are taken over plain HTTP (`encryption.allowCustomerKeysOverHTTP`).
    public var allowCustomerKeysOverHTTP: Bool

    public init(
        keys: [String: [UInt8]] = [:], defaultKeyId: String? = nil, previousKeys: [String: [[UInt8]]] = [:],
        allowCustomerKeysOverHTTP: Bool = false
    ) {
        self.keys = keys
        self.defaultKeyId = defaultKeyId
        self.previousKeys = previousKeys
        self.allowCustomerKeysOverHTTP = allowCustomerKeysOverHTTP
    }

    public static let none = EncryptionKeys()
    public var isEmpty: Bool { keys.isEmpty }
    public func key(_ id: String) -> [UInt8]? { keys[id] }
}

/// What an object is encrypted with, as its record says (`x-depot-sse`, `x-depot-sse-key`).
public struct ObjectEncryption: Sendable, Equatable {
    /// The S3 algorithm name: `AES256` (SSE-S3) or `aws:kms` (SSE-KMS).
    public var algorithm: String
    /// The master key id whose domain holds the object's chunks.
    public var keyId: String

    public init(algorithm: String, keyId: String) {
        self.algorithm = algorithm
        self.keyId = keyId
    }

    public static let sseS3 = "AES256"
    public static let sseKMS = "aws:kms"

    /// The encryption the internal metadata pairs name (an object's, or a multipart upload's).
    public init?(metadata: [(String, String)]) {
        guard let algorithm = metadata.first(where: { $0.0 == ObjectRecord.encryptionAlgorithmKey })?.1,
            let keyId = metadata.first(where: { $0.0 == ObjectRecord.encryptionKeyIdKey })?.1
        else { return nil }
        self.init(algorithm: algorithm, keyId: keyId)
    }
}

extension ObjectRecord {
    public static let encryptionAlgorithmKey = "x-depot-sse"
    public static let encryptionKeyIdKey = "x-depot-sse-key"

    /// The encryption the record's internal metadata names, nil for a plaintext object.
    public var encryption: ObjectEncryption? { ObjectEncryption(metadata: systemMetadata) }

    /// The internal metadata pairs that mark an object as encrypted.
    public static func encryptionMetadata(_ encryption: ObjectEncryption?) -> [(String, String)] {
        guard let encryption else { return [] }
        return [(encryptionAlgorithmKey, encryption.algorithm), (encryptionKeyIdKey, encryption.keyId)]
    }

    /// `metadata` without any encryption pairs, then those of `encryption`.
    public static func replacingEncryption(
        _ metadata: [(String, String)], with encryption: ObjectEncryption?
    ) -> [(String, String)] {
        metadata.filter { $0.0 != encryptionAlgorithmKey && $0.0 != encryptionKeyIdKey } + encryptionMetadata(encryption)
    }
}
