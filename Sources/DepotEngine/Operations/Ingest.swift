import DepotHashing
import DepotStorage

/// Metadata the front door supplies with an upload.
public struct ObjectMetadata: Sendable {
    public var owner: String
    public var contentType: String
    public var systemMetadata: [(String, String)]
    public var userMetadata: [(String, String)]
    public var tags: [(String, String)]
    public var checksums: [(String, String)]
    public var checksumType: String

    public init(
        owner: String, contentType: String = "binary/octet-stream", systemMetadata: [(String, String)] = [],
        userMetadata: [(String, String)] = [], tags: [(String, String)] = [], checksums: [(String, String)] = [],
        checksumType: String = ""
    ) {
        self.owner = owner
        self.contentType = contentType
        self.systemMetadata = systemMetadata
        self.userMetadata = userMetadata
        self.tags = tags
        self.checksums = checksums
        self.checksumType = checksumType
    }
}

/// A check run against the current object inside the commit, e.g. S3 `If-None-Match: *`.
public typealias CommitPrecondition = @Sendable (ObjectRecord?) throws -> Void

/// One upload in progress: bytes in, chunks out.
///
/// Each piece of the body is hashed with MD5 (the ETag) and cut into chunks; each chunk is hashed
/// with SHA-256 and, unless the index already holds it, appended to the active segment straight
/// away. Memory stays bounded by the largest chunk. Nothing is visible until `commit`, which waits
/// for the group commit to make the bytes and the index entry durable. An abandoned session
/// leaves only unreferenced bytes that compaction reclaims.
public final class IngestSession {
    public let bucket: String
    public let key: String
    /// Set when the session uploads a part of a multipart upload.
    public let uploadId: String?
    public let partNumber: Int?
    let engine: Engine
    private var chunker: StreamingChunker
    /// The ETag's MD5, in the shared multi-buffer service: hashed off this thread while chunking
    /// goes on, side by side with the other uploads' in SIMD lanes.
    private let md5 = MultiBufferHashing.shared.makeMD5Stream()
    /// The current chunk's SHA-256 (its address), in the same service: the worker hashes the
    /// body's network buffers for this upload's MD5 lane and then for this lane while they are in
    /// cache; `store` waits for the chunk's last pass before its dedup lookup.
    private let sha256 = MultiBufferHashing.shared.makeSHA256Stream()
    private var manifest: [ChunkRef] = []
    private var placements: [ChunkPlacement] = []
    private var appendedHere: [[UInt8]: RecordLocation] = [:]
    private var finished = false
    /// Set once a commit is attempted: from then on the appended chunks may be referenced.
    var commitStarted = false
    private let lease: ReclaimLease
    public private(set) var size: UInt64 = 0
    public private(set) var contentMD5: [UInt8] = []
    /// Server-side encryption of this upload's chunks (`encrypt(with:)`), nil for plaintext.
    public private(set) var encryption: ObjectEncryption?
    private var domain: EncryptionDomain?

    init(engine: Engine, bucket: String, key: String, uploadId: String? = nil, partNumber: Int? = nil) {
        self.engine = engine
        self.bucket = bucket
        self.key = key
        self.uploadId = uploadId
        self.partNumber = partNumber
        self.chunker = StreamingChunker(engine.configuration.chunking)
        self.lease = engine.lease()
    }

    /// A session dropped before any commit (body cut off, refused for space, bad checksum) left
    /// chunks nothing references: only this session could have referenced them, since other
    /// uploads deduplicate against committed chunks only. The segment store seals the active
    /// segment when they are most of it, so compaction reclaims them at once.
    deinit {
        guard !commitStarted, !appendedHere.isEmpty else { return }
        var abandoned: [UInt32: Int] = [:]
        for location in appendedHere.values {
            abandoned[location.segment, default: 0] += RecordHeader.size + Int(location.length)
        }
        engine.dataPathStore.noteAbandoned(abandoned)
    }

    /// Encrypts every chunk of this upload in the domain of `encryption.keyId` (creating its
    /// data key on first use); call before the first byte is written. The committed record says
    /// so in its internal metadata.
    public func encrypt(with encryption: ObjectEncryption) async throws {
        encrypt(with: encryption, in: try await engine.encryptionDomain(keyId: encryption.keyId))
    }

    /// The same with the domain at hand (`Engine.preparedEncryptionDomain`), for callers that
    /// cannot wait where the upload starts (a POST form's file begins inside the form parser).
    public func encrypt(with encryption: ObjectEncryption, in domain: EncryptionDomain) {
        precondition(size == 0 && !finished, "encrypt(with:) after bytes were written")
        precondition(domain.keyId == encryption.keyId, "the domain of another key")
        self.domain = domain
        self.encryption = encryption
    }

    /// Takes the next bytes of the body. `owner`, when given, returns an object that keeps `bytes`
    /// valid and unchanged while it lives (a box around the network buffer): the chunker then
    /// writes large pieces to the segment from where they are instead of copying them.
    public func write(_ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)? = nil) throws {
        precondition(!finished, "write after finish")
        md5.update(bytes, owner: owner)
        size += UInt64(bytes.count)
        do {
            // SHA-256 per piece as it arrives (StreamingChunker.append(_:owner:piece:_:)), in place
            // in the network buffer the chunker keeps until the chunk is written.
            try chunker.append(bytes, owner: owner, piece: { self.sha256.update($0, owner: owner) }) { chunk in
                try self.store(chunk)
            }
        } catch { throw EngineError.wrap(error) }
    }

    public func write(_ bytes: [UInt8]) throws { try bytes.withUnsafeBytes { try write($0) } }

    /// Ends the byte stream and returns the MD5 of everything written.
    @discardableResult
    public func finishStream() throws -> [UInt8] {
        if !finished {
            finished = true
            do {
                try chunker.finishPieces { chunk in try self.store(chunk) }
            } catch { throw EngineError.wrap(error) }
            contentMD5 = md5.finalize()
        }
        return contentMD5
    }

    var manifestSoFar: [ChunkRef] { manifest }
    var placementsSoFar: [ChunkPlacement] { placements }

    /// Stores one complete chunk, whose bytes have all gone through `sha256` already. An
    /// encrypted upload's chunk is known by its domain address and stored as ciphertext + tag,
    /// so it deduplicates only against the same bytes in the same domain.
    private func store(_ chunk: ChunkPieces) throws {
        let plaintextHash = sha256.finalize()
        let hash = domain?.address(ofPlaintextHash: plaintextHash) ?? plaintextHash
        manifest.append(ChunkRef(hash: hash, length: UInt32(chunk.count)))
        if let location = appendedHere[hash] {
            placements.append(ChunkPlacement(hash: hash, location: location))
        } else if let entry = try engine.chunkEntry(hash) {
            placements.append(ChunkPlacement(hash: hash, location: entry.location))
        } else {
            let location: RecordLocation
            if let domain {
                let sealed = try chunk.withContiguousBytes { try domain.seal($0, address: hash) }
                try engine.dataPathStore.ensureRoomForUpload(bytes: sealed.count)
                location = try sealed.withUnsafeBytes { try engine.dataPathStore.append(kind: .chunk, hash: hash, payload: $0) }
            } else {
                try engine.dataPathStore.ensureRoomForUpload(bytes: chunk.count)
                location = try engine.dataPathStore.append(kind: .chunk, hash: hash, pieces: chunk.pieces)
            }
            appendedHere[hash] = location
            placements.append(ChunkPlacement(hash: hash, location: location))
        }
    }

    /// Makes the object visible, durably. `etag` overrides the MD5 (multipart objects).
    public func commit(
        metadata: ObjectMetadata, etag: String? = nil, partSizes: [UInt64] = [],
        precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("Put")
    ) async throws -> ObjectRecord {
        try engine.checkOutboxRoom()
        commitStarted = true
        try finishStream()
        var record = ObjectRecord(
            size: size, etag: etag ?? Hex.encode(contentMD5), created: Engine.now(), owner: metadata.owner,
            contentType: metadata.contentType,
            systemMetadata: ObjectRecord.replacingEncryption(metadata.systemMetadata, with: encryption),
            userMetadata: metadata.userMetadata, tags: metadata.tags, checksums: metadata.checksums,
            checksumType: metadata.checksumType, partSizes: partSizes, manifest: manifest)
        let placements = self.placements
        let (bucket, key, engine) = (self.bucket, self.key, self.engine)
        record.manifest = manifest
        let committed = record
        do {
            let stored = try await engine.committer.submit { txn, context in
                try engine.commitObject(
                    bucket: bucket, key: key, record: committed, placements: placements, precondition: precondition,
                    origin: origin, txn: txn, context: context)
            }
            engine.recordIngest(bucket: bucket, key: key, record: stored)
            return stored
        } catch {
            let wrapped = EngineError.wrap(error)
            // Refused by the quota before anything was logged or referenced: the chunks only
            // this session appended are garbage now, so they are reclaimed at once (deinit).
            if case .quotaExceeded? = wrapped as? EngineError { commitStarted = false }
            throw wrapped
        }
    }
}

extension Engine {
    /// Opens an upload after checking what can be checked before any byte is read.
    public func startIngest(bucket: String, key: String) throws -> IngestSession {
        try checkKeyLength(bucket: bucket, key: key)
        guard try self.bucket(bucket) != nil else { throw EngineError.noSuchBucket(bucket) }
        return IngestSession(engine: self, bucket: bucket, key: key)
    }

    /// Validates, logs and indexes a new object version, replacing any previous one.
    func commitObject(
        bucket: String, key: String, record: ObjectRecord, placements: [ChunkPlacement],
        precondition: CommitPrecondition?, origin: ChangeOrigin, txn: borrowing Transaction, context: CommitContext
    ) throws -> ObjectRecord {
        let previous = try txn.object(objects, bucket: bucket, key: key)
        // Throws noSuchBucket; says what the new version replaces (Versioning.swift).
        let plan = try versionPlan(bucket: bucket, key: key, current: previous, txn: txn)
        try precondition?(previous)
        try chargeUsage(added: record, removed: plan.replaced, txn: txn)
        var stored = record
        try planReplication(bucket: bucket, key: key, record: &stored, previous: previous, txn: txn)
        let (_, sequence) = try logVersion(plan, bucket: bucket, key: key, record: &stored, context: context)
        try recordCreated(
            bucket: bucket, key: key, record: stored, origin: origin, sequence: sequence, txn: txn, context: context)
        try addReferences(placements, txn: txn, context: context)
        try installVersion(plan, bucket: bucket, key: key, record: stored, txn: txn, context: context)
        return stored
    }
}
