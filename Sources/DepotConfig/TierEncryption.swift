/// A tier's own server-side encryption (`tiers[].serverSideEncryption`, s3 tiers only): what the
/// backend is asked to encrypt Depot's copies with, sent as `x-amz-server-side-encryption` (and
/// `x-amz-server-side-encryption-aws-kms-key-id`) on every PUT and CreateMultipartUpload. It is
/// the tier's encryption at rest, independent of how the object is encrypted in Depot.
public struct TierEncryption: Sendable, Equatable {
    /// `AES256` or `aws:kms`.
    public var algorithm: String
    /// The backend's KMS key (`aws:kms` only; nil: the backend's default KMS key).
    public var kmsKeyId: String?

    public init(algorithm: String, kmsKeyId: String? = nil) {
        self.algorithm = algorithm
        self.kmsKeyId = kmsKeyId
    }

    public var isKMS: Bool { algorithm == "aws:kms" }

    /// The request headers that ask the backend for it.
    public var headers: [(String, String)] {
        var headers = [("x-amz-server-side-encryption", algorithm)]
        if let kmsKeyId { headers.append(("x-amz-server-side-encryption-aws-kms-key-id", kmsKeyId)) }
        return headers
    }
}

/// What a replicate policy sends for an object Depot stores encrypted (`replicate.encryptedObjects`).
public enum EncryptedObjectCopies: String, Sendable {
    /// Decrypted, then encrypted by the tier's own setting (if any): the tier holds a readable
    /// copy. SSE-C objects cannot go this way (Depot does not keep their key): FAILED at once.
    case plaintext
    /// Depot's sealed chunks as they are on disk, in a sealed copy (DepotEngine SealedCopy.swift)
    /// with the wrapped data key: the tier never sees plaintext or a key that opens it alone.
    case ciphertext
}

extension DepotConfiguration {
    /// `serverSideEncryption: AES256` or `{ algorithm: aws:kms, kmsKeyId: … }` (or the short
    /// `serverSideEncryption: aws:kms` with `kmsKeyId` beside it), on s3 tiers; other kinds cannot
    /// pass a request for encryption to their backend, so the field is refused there.
    static func parseTierEncryption(_ node: ConfigNode, kind: TierSettings.Kind) throws -> TierEncryption? {
        let field = node["serverSideEncryption"]
        guard field.isPresent else { return nil }
        guard kind == .s3 else {
            throw ConfigError(
                field.path,
                "only s3 tiers take a server-side encryption setting (a \(kind.rawValue) tier has no such request: "
                    + "encrypt its storage itself, or send encrypted objects as ciphertext with the policy's replicate.encryptedObjects)"
            )
        }
        var encryption: TierEncryption
        if field.node?.mapping != nil {
            try field.requireMapping()
            encryption = TierEncryption(
                algorithm: try field["algorithm"].requiredString(), kmsKeyId: try field["kmsKeyId"].string())
        } else {
            encryption = TierEncryption(algorithm: try field.requiredString())
        }
        let path = field.node?.mapping != nil ? field.path + ".algorithm" : field.path
        guard encryption.algorithm == "AES256" || encryption.algorithm == "aws:kms" else {
            throw ConfigError(path, "must be AES256 or aws:kms, got \"\(encryption.algorithm)\"")
        }
        if encryption.kmsKeyId != nil && !encryption.isKMS {
            throw ConfigError(field.path + ".kmsKeyId", "is only valid with aws:kms")
        }
        return encryption
    }

    /// `replicate.encryptedObjects: plaintext | ciphertext` (default plaintext). Ciphertext copies
    /// are written by s3 tiers only, so every tier the policy names must be one.
    static func parseEncryptedObjectCopies(_ replicate: ConfigNode, tiers: [TierSettings], to: [String]) throws
        -> EncryptedObjectCopies
    {
        let field = replicate["encryptedObjects"]
        let text = try field.string(default: "plaintext")
        guard let copies = EncryptedObjectCopies(rawValue: text) else {
            throw ConfigError(field.path, "must be plaintext or ciphertext, got \"\(text)\"")
        }
        if copies == .ciphertext,
            let other = tiers.first(where: { to.contains($0.name) && $0.kind != .s3 })
        {
            throw ConfigError(
                field.path, "ciphertext copies go to s3 tiers only; tier \(other.name) is \(other.kind.rawValue)")
        }
        return copies
    }
}
