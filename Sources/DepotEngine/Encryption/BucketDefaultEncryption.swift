/// A bucket's default encryption (S3 PutBucketEncryption): the algorithm and master key id new
/// objects get when their request names none. Kept as the bucket document "encryption" in a
/// canonical text form: the algorithm, then a newline and the key id when one was named. Every
/// door that creates objects (S3, POST forms, the Vault API) asks `defaultEncryption(ofBucket:)`.
public struct BucketDefaultEncryption: Sendable, Equatable {
    public static let documentName = "encryption"

    public var algorithm: String
    public var keyId: String?

    public init(algorithm: String, keyId: String?) {
        self.algorithm = algorithm
        self.keyId = keyId
    }

    public var document: [UInt8] { Array((keyId.map { "\(algorithm)\n\($0)" } ?? algorithm).utf8) }

    public static func rule(of record: BucketRecord) -> BucketDefaultEncryption? {
        guard let bytes = record.document(documentName) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n", omittingEmptySubsequences: false)
        guard let first = lines.first else { return nil }
        return BucketDefaultEncryption(algorithm: String(first), keyId: lines.count > 1 ? String(lines[1]) : nil)
    }
}

extension Engine {
    /// What a new object in `bucket` is encrypted with when its request names nothing: the
    /// bucket's default, with the configured default key when it names none. Throws when the
    /// default cannot be carried out (its key is no longer configured): never plaintext instead.
    public func defaultEncryption(ofBucket bucket: String) throws -> ObjectEncryption? {
        guard let record = try self.bucket(bucket) else { return nil }
        return try defaultEncryption(of: record, bucket: bucket)
    }

    /// The same, from a bucket record the caller has already read (one read per request).
    public func defaultEncryption(of record: BucketRecord, bucket: String) throws -> ObjectEncryption? {
        guard let rule = BucketDefaultEncryption.rule(of: record) else { return nil }
        guard let keyId = rule.keyId ?? configuration.encryption.defaultKeyId,
            configuration.encryption.key(keyId) != nil
        else {
            throw EngineError.invalidRequest(
                "bucket \(bucket) has default encryption with key \(rule.keyId ?? "(default)"), which is not configured")
        }
        return ObjectEncryption(algorithm: rule.algorithm, keyId: keyId)
    }

    /// A part of a multipart or tus upload, encrypted as its upload says (its metadata carries
    /// the encryption chosen at creation).
    /// An SSE-C upload's parts need its `customerKey` (CustomerKeyEncryption.Refusal otherwise).
    public func startUploadPart(uploadId id: String, number: Int, customerKey: [UInt8]? = nil) async throws -> IngestSession {
        guard let upload = try upload(id) else { throw EngineError.noSuchUpload(id) }
        let encryption = ObjectEncryption(metadata: upload.metadata.systemMetadata)
        if let encryption, CustomerKeyEncryption.isCustomerKey(encryption) {
            let domain = try CustomerKeyEncryption.domain(of: encryption, customerKey: customerKey)
            let session = try startPart(uploadId: id, number: number)
            session.encrypt(with: encryption, in: domain)
            return session
        }
        let session = try startPart(uploadId: id, number: number)
        if let encryption {
            try await session.encrypt(with: encryption)
        }
        return session
    }
}
