import DepotStorage

/// One chunk of an object's manifest: its content address and length.
public struct ChunkRef: Sendable, Equatable {
    public var hash: [UInt8]
    public var length: UInt32

    public init(hash: [UInt8], length: UInt32) {
        self.hash = hash
        self.length = length
    }
}

/// Whether the object's bytes are in the local segments or only on a tier (after a transition).
public enum LocalState: UInt8, Sendable {
    case present = 0
    case evicted = 1
}

/// Replication state of one object on one tier.
public struct TierReplica: Sendable, Equatable {
    public enum State: UInt8, Sendable {
        case pending = 0
        case completed = 1
        case failed = 2

        /// The S3 spelling, as `x-amz-replication-status` reports it.
        public var s3Name: String {
            switch self {
            case .pending: return "PENDING"
            case .completed: return "COMPLETED"
            case .failed: return "FAILED"
            }
        }
    }

    public var tier: String
    public var state: State
    public var attempts: UInt32
    public var lastError: String
    /// Milliseconds since the epoch of the last change.
    public var updated: Int64

    public init(tier: String, state: State, attempts: UInt32 = 0, lastError: String = "", updated: Int64) {
        self.tier = tier
        self.state = state
        self.attempts = attempts
        self.lastError = lastError
        self.updated = updated
    }
}

/// Everything the index knows about one object. The same encoding (minus the commit location)
/// is the payload of the object-commit record in the segments, so the index can be rebuilt.
public struct ObjectRecord: Sendable, Equatable {
    /// The aggregate replication status S3 reports: FAILED if any tier failed, PENDING while
    /// any is pending, COMPLETED when all are done; nil when no policy replicates the object.
    public var replicationStatus: String? {
        guard !replicas.isEmpty else { return nil }
        if replicas.contains(where: { $0.state == .failed }) { return "FAILED" }
        if replicas.contains(where: { $0.state == .pending }) { return "PENDING" }
        return "COMPLETED"
    }

    public var size: UInt64
    /// Quoted-less hex MD5, or `md5-of-md5s-N` for multipart objects.
    public var etag: String
    /// Milliseconds since the Unix epoch.
    public var created: Int64
    public var owner: String
    public var contentType: String
    /// Standard headers kept verbatim: content-encoding, -disposition, -language, cache-control, expires.
    public var systemMetadata: [(String, String)]
    /// `x-amz-meta-*` without the prefix, lower-cased names.
    public var userMetadata: [(String, String)]
    public var tags: [(String, String)]
    /// S3 flexible checksums: algorithm name ("CRC32", …) and base64 value (may end in "-N").
    public var checksums: [(String, String)]
    public var checksumType: String
    /// Sizes of the parts of a multipart object (empty for a single PUT), for `?partNumber=`.
    public var partSizes: [UInt64]
    public var localState: LocalState
    /// Per-tier replication state, in the order the policies named the tiers.
    public var replicas: [TierReplica] = []
    public var manifest: [ChunkRef]
    /// Where the commit record sits and its log sequence; set by the committer.
    public var commitLocation: RecordLocation
    public var sequence: UInt64
    /// Versioning (Versioning.swift): the log sequence that created this version, which orders
    /// the versions of a key and names a non-null one (`VersionId`); 0 for a record written in
    /// a bucket that was never versioned (its version is `null`, ordered by `sequence`).
    public var versionOrder: UInt64 = 0
    /// S3's `null` version: made in an unversioned or Suspended bucket.
    public var isNullVersion = false
    /// A delete marker: no bytes, no manifest; it hides the key while it is the latest version.
    public var isDeleteMarker = false
    /// Object Lock, kept with each version (carried and logged; enforced by the lock work).
    public var lock = ObjectLockFields()

    public init(
        size: UInt64, etag: String, created: Int64, owner: String, contentType: String = "binary/octet-stream",
        systemMetadata: [(String, String)] = [], userMetadata: [(String, String)] = [], tags: [(String, String)] = [],
        checksums: [(String, String)] = [], checksumType: String = "", partSizes: [UInt64] = [],
        localState: LocalState = .present, manifest: [ChunkRef] = []
    ) {
        self.size = size
        self.etag = etag
        self.created = created
        self.owner = owner
        self.contentType = contentType
        self.systemMetadata = systemMetadata
        self.userMetadata = userMetadata
        self.tags = tags
        self.checksums = checksums
        self.checksumType = checksumType
        self.partSizes = partSizes
        self.localState = localState
        self.manifest = manifest
        self.commitLocation = RecordLocation(segment: 0, offset: 0, length: 0)
        self.sequence = 0
    }

    /// The chunks this object holds references on: its manifest while its bytes are local,
    /// none once a transition evicted them (the manifest is kept to describe the object).
    var heldChunks: [ChunkRef] { localState == .present ? manifest : [] }

    public static func == (a: ObjectRecord, b: ObjectRecord) -> Bool {
        a.encodedBody() == b.encodedBody() && a.commitLocation == b.commitLocation && a.sequence == b.sequence
    }

    /// Version 2 added `replicas`; version 1 records decode with none.
    static let version: UInt8 = 2
    /// Version 2 preceded by the object's key: the index value of a key too long to be its own
    /// index key (ObjectKeyLayout). Never in the segments, whose records name their key anyway.
    static let versionWithKey: UInt8 = 3
    /// Version 4 adds the versioning and lock fields after the replicas; 5 is 4 with the key.
    /// Records without any (every record of a never-versioned bucket) are still written as 2/3,
    /// so the unversioned path stores exactly what it stored before.
    static let versionedVersion: UInt8 = 4
    static let versionedVersionWithKey: UInt8 = 5

    /// Whether the record needs the version 4 layout.
    var hasVersionFields: Bool { versionOrder != 0 || isNullVersion || isDeleteMarker || lock != ObjectLockFields() }

    /// S3's version id: nil for a record of a never-versioned bucket (no header is sent).
    public var versionId: String? {
        if isNullVersion { return "null" }
        return versionOrder == 0 ? nil : VersionId.encode(versionOrder)
    }

    /// The log payload: everything but where the record itself sits.
    func encodedBody() -> [UInt8] {
        var w = BinaryWriter(capacity: 128 + manifest.count * 36)
        encodeBody(&w)
        return w.bytes
    }

    func encodeBody(_ w: inout BinaryWriter, key: String? = nil) {
        let versioned = hasVersionFields
        if let key {
            w.u8(versioned ? Self.versionedVersionWithKey : Self.versionWithKey)
            w.string(key)
        } else {
            w.u8(versioned ? Self.versionedVersion : Self.version)
        }
        w.varint(size)
        w.string(etag)
        w.signed(created)
        w.string(owner)
        w.string(contentType)
        w.pairs(systemMetadata)
        w.pairs(userMetadata)
        w.pairs(tags)
        w.pairs(checksums)
        w.string(checksumType)
        w.varint(partSizes.count)
        for p in partSizes { w.varint(p) }
        w.u8(localState.rawValue)
        w.varint(replicas.count)
        for r in replicas {
            w.string(r.tier)
            w.u8(r.state.rawValue)
            w.varint(UInt64(r.attempts))
            w.string(r.lastError)
            w.signed(r.updated)
        }
        if versioned {
            w.varint(versionOrder)
            w.u8((isNullVersion ? 1 : 0) | (isDeleteMarker ? 2 : 0) | (lock.legalHold ? 4 : 0))
            w.u8(lock.mode)
            w.signed(lock.retainUntil)
        }
        // The manifest goes last so listings can stop decoding before it.
        w.varint(manifest.count)
        for c in manifest {
            w.raw(c.hash)
            w.varint(UInt64(c.length))
        }
    }

    /// The index value: the commit location and sequence followed by the body, which starts
    /// with `key` when one is given (Transaction.putObject gives it for hashed index keys).
    func encodedValue(key: String? = nil) -> [UInt8] {
        var w = BinaryWriter(capacity: 160 + manifest.count * 36 + (key?.utf8.count ?? 0))
        w.u32(commitLocation.segment)
        w.u64(commitLocation.offset)
        w.u32(commitLocation.length)
        w.u64(sequence)
        encodeBody(&w, key: key)
        return w.bytes
    }

    /// The key an index value carries (version 3), or nil when it carries none.
    static func storedKey(inValue bytes: UnsafeRawBufferPointer) throws -> String? {
        var r = BinaryReader(bytes)
        _ = try r.raw(24)
        let version = try r.u8()
        guard version == versionWithKey || version == versionedVersionWithKey else { return nil }
        return try r.string()
    }

    static func decodeBody(_ r: inout BinaryReader, withManifest: Bool = true) throws -> ObjectRecord {
        let version = try r.u8()
        guard (1...versionedVersionWithKey).contains(version) else {
            throw DecodeError("unknown object record version \(version)")
        }
        if version == versionWithKey || version == versionedVersionWithKey { _ = try r.string() }
        var o = ObjectRecord(size: try r.varint(), etag: try r.string(), created: try r.signed(), owner: try r.string())
        o.contentType = try r.string()
        o.systemMetadata = try r.pairs()
        o.userMetadata = try r.pairs()
        o.tags = try r.pairs()
        o.checksums = try r.pairs()
        o.checksumType = try r.string()
        let parts = try r.int()
        guard parts <= r.remaining else { throw DecodeError("bad part count") }
        o.partSizes = try (0..<parts).map { _ in try r.varint() }
        o.localState = LocalState(rawValue: try r.u8()) ?? .present
        if version >= 2 {
            let n = try r.int()
            guard n <= r.remaining else { throw DecodeError("bad replica count") }
            for _ in 0..<n {
                o.replicas.append(
                    TierReplica(
                        tier: try r.string(), state: TierReplica.State(rawValue: try r.u8()) ?? .pending,
                        attempts: UInt32(truncatingIfNeeded: try r.varint()), lastError: try r.string(), updated: try r.signed()))
            }
        }
        if version >= versionedVersion {
            o.versionOrder = try r.varint()
            let flags = try r.u8()
            o.isNullVersion = flags & 1 != 0
            o.isDeleteMarker = flags & 2 != 0
            o.lock = ObjectLockFields(mode: try r.u8(), retainUntil: try r.signed(), legalHold: flags & 4 != 0)
        }
        if withManifest {
            let n = try r.int()
            guard n <= r.remaining / 33 else { throw DecodeError("bad manifest length") }
            o.manifest.reserveCapacity(n)
            for _ in 0..<n { o.manifest.append(ChunkRef(hash: try r.raw(32), length: UInt32(try r.varint()))) }
        }
        return o
    }

    static func decodeValue(_ bytes: UnsafeRawBufferPointer, withManifest: Bool = true) throws -> ObjectRecord {
        var r = BinaryReader(bytes)
        let location = RecordLocation(segment: try r.u32(), offset: try r.u64(), length: try r.u32())
        let sequence = try r.u64()
        var o = try decodeBody(&r, withManifest: withManifest)
        o.commitLocation = location
        o.sequence = sequence
        return o
    }
}

/// A bucket's versioning state (S3 PutBucketVersioning). Once versioned, never unversioned again.
public enum VersioningState: UInt8, Sendable {
    case unversioned = 0
    case enabled = 1
    case suspended = 2
}

/// A bucket's settings. Tags are stored here; more settings join as the S3 API grows.
public struct BucketRecord: Sendable, Equatable {
    public var created: Int64
    public var owner: String
    public var region: String
    public var tags: [(String, String)]
    public var versioning: VersioningState = .unversioned
    /// S3 Object Lock; nil on a bucket without it (ObjectLockConfiguration.swift).
    public var objectLock: BucketObjectLock?
    /// Named bucket documents, each owned and validated by one part of the S3 API (a policy, a
    /// CORS configuration, an ACL, ...), kept in name order. The engine stores and logs them with
    /// the bucket, so they survive `fsck --rebuild-index`, and never interprets them.
    public private(set) var documents: [(name: String, value: [UInt8])] = []

    public func document(_ name: String) -> [UInt8]? { documents.first { $0.name == name }?.value }

    public mutating func setDocument(_ name: String, _ value: [UInt8]?) {
        documents.removeAll { $0.name == name }
        if let value {
            documents.append((name, value))
            documents.sort { $0.name < $1.name }
        }
    }

    public init(created: Int64, owner: String, region: String, tags: [(String, String)] = []) {
        self.created = created
        self.owner = owner
        self.region = region
        self.tags = tags
    }

    public static func == (a: BucketRecord, b: BucketRecord) -> Bool { a.encoded() == b.encoded() }

    func encoded() -> [UInt8] {
        var w = BinaryWriter()
        // Version 2 adds the versioning state; an unversioned bucket keeps version 1's bytes.
        // Version 3 adds Object Lock after it. Version 4 (only with documents) says whether a lock
        // follows, then the documents; a bucket without documents keeps its earlier bytes.
        let version: UInt8 = !documents.isEmpty ? 4 : objectLock != nil ? 3 : versioning == .unversioned ? 1 : 2
        w.u8(version)
        w.signed(created)
        w.string(owner)
        w.string(region)
        w.pairs(tags)
        if version >= 2 { w.u8(versioning.rawValue) }
        if version == 4 { w.bool(objectLock != nil) }
        if let lock = objectLock {
            w.u8(lock.defaultMode)
            w.signed(Int64(lock.defaultDays))
            w.signed(Int64(lock.defaultYears))
        }
        if version == 4 {
            w.varint(documents.count)
            for (name, value) in documents {
                w.string(name)
                w.blob(value)
            }
        }
        return w.bytes
    }

    static func decode(_ r: inout BinaryReader) throws -> BucketRecord {
        let version = try r.u8()
        guard (1...4).contains(version) else { throw DecodeError("unknown bucket record version \(version)") }
        var record = BucketRecord(created: try r.signed(), owner: try r.string(), region: try r.string(), tags: try r.pairs())
        if version >= 2 {
            let state = try r.u8()
            guard let versioning = VersioningState(rawValue: state) else {
                throw DecodeError("unknown versioning state \(state)")
            }
            record.versioning = versioning
        }
        let hasLock = version == 3 ? true : version == 4 ? try r.bool() : false
        if hasLock {
            record.objectLock = BucketObjectLock(
                defaultMode: try r.u8(), defaultDays: Int32(clamping: try r.signed()),
                defaultYears: Int32(clamping: try r.signed()))
        }
        if version == 4 {
            let count = try r.int()
            guard count <= 64 else { throw DecodeError("bucket record with \(count) documents") }
            for _ in 0..<count { record.setDocument(try r.string(), try r.blob()) }
        }
        return record
    }
}

/// A chunk's index entry: where its bytes are and how many manifest entries point at it.
struct ChunkEntry: Equatable {
    var location: RecordLocation
    var references: UInt64

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 24)
        w.u32(location.segment)
        w.u64(location.offset)
        w.u32(location.length)
        w.u64(references)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> ChunkEntry {
        try bytes.decode { r in
            ChunkEntry(
                location: RecordLocation(segment: try r.u32(), offset: try r.u64(), length: try r.u32()),
                references: try r.u64())
        }
    }
}
