import DepotHashing
import DepotStorage
import Glibc
import Logging
import Synchronization

/// Where and how the engine keeps its data.
public struct EngineConfiguration: Sendable {
    public var dataDirectory: String
    public var chunking: ChunkerParameters
    public var segmentSize: Int
    public var region: String
    /// Keep durable segment bytes in the page cache (`storage.cacheWrittenData`).
    public var cacheWrittenData: Bool
    /// Free space new uploads must leave on the data device (`storage.reserve`).
    public var reserve: SpaceReserve
    /// The master keys of server-side encryption (`encryption:`); none by default.
    public var encryption: EncryptionKeys
    /// The chunk store of the data paths when it is not the local segments (cluster mode's
    /// pack objects, `PackChunkStore` in DepotPackStore); nil: the segments (DataPathStore.swift).
    public var chunkStore: (any ChunkStore)? = nil
    /// The key sealing stored account records when it is not `<data>/secrets-key` (cluster
    /// mode: derived from `cluster.keyFile`, the same on every node; SecretsKey.swift).
    public var accountSealingKey: [UInt8]? = nil

    public init(
        dataDirectory: String, chunking: ChunkerParameters = .standard, segmentSize: Int = 1 << 30,
        region: String = "us-east-1", cacheWrittenData: Bool = false, reserve: SpaceReserve = .automatic,
        encryption: EncryptionKeys = .none
    ) {
        self.encryption = encryption
        self.reserve = reserve
        self.dataDirectory = dataDirectory
        self.chunking = chunking
        self.segmentSize = segmentSize
        self.region = region
        self.cacheWrittenData = cacheWrittenData
    }

    public var indexDirectory: String { dataDirectory + "/index" }
    public var segmentDirectory: String { dataDirectory + "/segments" }
}

/// The storage engine: ingest, read, delete and list over the chunk store. It knows nothing of
/// HTTP; the front doors turn its answers and `EngineError`s into their own dialects.
public final class Engine: Sendable {
    public let configuration: EngineConfiguration
    /// The index (issue 21's seam): every read and commit goes through `IndexStore`, so the
    /// engine runs over LMDB (the default) or any other store given to `init(configuration:
    /// indexStore:logger:)`. Its transactions stay LMDB's statically dispatched calls when it
    /// is LMDB (Transaction.swift).
    let indexStore: any IndexStore
    /// The same index as an LMDB file, when it is one (nil for an injected store): only what is
    /// about the file itself uses it (map-size metrics in `statistics()`).
    let lmdbIndexFile: LMDBEnvironment?
    /// The segment files: the data paths' chunk store (`dataPathStore`) and the subject of
    /// segment maintenance.
    let store: SegmentStore
    /// The data paths' chunk store (ingest, commit logging, reads; issue 21's seam): `store`, or
    /// the store given in `EngineConfiguration.chunkStore`. Maintenance (compaction, hole
    /// punching, fsck's segment scan, the reserve ballast) uses `store` as the `SegmentStore` it
    /// is, and is skipped when the chunks are elsewhere (`segmentMaintenanceApplies`).
    let dataPathStore: DataPathStore
    let committer: Committer
    let logger: Logger
    let reclaim: ReclaimGate
    let plannerBox = PlannerBox()
    /// One compaction at a time: the schedule and the space recovery may both ask for one.
    let compactionRunning = Atomic<Bool>(false)
    /// What hole punching saw in each sealed segment, so unchanged ones are not walked again.
    let punchScans = PunchScanMemory()
    let readThroughBox = ReadThroughBox()
    let outboxBox = OutboxBox()
    /// The accounts' storage quotas (Quota.swift).
    let quotaBox = QuotaBox()
    /// The policies' `lock:` retentions (PolicyLock.swift).
    let lockPlannerBox = LockPlannerBox()
    /// Unwrapped data keys of server-side encryption (EncryptionDomains.swift).
    let encryptionDomainCache = EncryptionDomainCache()
    /// Bytes and objects committed per minute over the last day (the console's ingest charts).
    public let ingestHistory = IngestHistory()
    /// Each camera's newest recording (the console's cameras page), kept with the ingest history.
    public let latestRecordings = LatestRecordings()
    let lockFile: Int32

    let buckets: Table
    let objects: Table
    let chunks: Table
    let segments: Table
    let meta: Table

    /// S3's longest object key in UTF-8 bytes; longer keys are refused with `keyTooLong`.
    public static let maximumKeyLength = ObjectKeyLayout.maximumKeyLength

    /// Opens the data directory, taking an exclusive lock on it so that two processes never
    /// write the same store.
    public convenience init(configuration: EngineConfiguration, logger: Logger = Logger(label: "depot.engine")) throws {
        try self.init(configuration: configuration, indexStore: nil, logger: logger)
    }

    /// The same, over `indexStore` instead of the LMDB index in the data directory (nil: that
    /// one, as `init(configuration:logger:)`). The store must hold every table of `IndexTable`;
    /// the segments and the lock stay in the data directory.
    public init(
        configuration: EngineConfiguration, indexStore injected: (any IndexStore)?,
        logger: Logger = Logger(label: "depot.engine")
    ) throws {
        self.configuration = configuration
        self.logger = logger
        PrivateFiles.makeDirectory(configuration.dataDirectory)
        // Data directories made before files were private (0644/0755) are tightened once.
        let tightened = PrivateFiles.tighten(configuration.dataDirectory)
        if tightened > 0 {
            logger.notice(
                "set owner-only modes (files 0600, directories 0700) on \(tightened) entries of \(configuration.dataDirectory)")
        }
        lockFile = try DataDirectoryLock.acquire(configuration.dataDirectory)
        do {
            if let injected {
                let missing = Set(Tables.all).subtracting(injected.tableNames)
                guard missing.isEmpty else {
                    throw EngineError.io("the index store lacks the tables \(missing.sorted().joined(separator: ", "))")
                }
                indexStore = injected
                lmdbIndexFile = injected as? LMDBEnvironment
            } else {
                let file = try LMDBEnvironment(path: configuration.indexDirectory, tables: Tables.all)
                indexStore = file
                lmdbIndexFile = file
            }
            store = try SegmentStore(
                directory: configuration.segmentDirectory, segmentSize: configuration.segmentSize,
                keepsSyncedPagesCached: configuration.cacheWrittenData, reserve: configuration.reserve)
        } catch {
            close(lockFile)
            throw EngineError.wrap(error)
        }
        buckets = indexStore.table(.buckets)
        objects = indexStore.table(.objects)
        chunks = indexStore.table(.chunks)
        segments = indexStore.table(.segments)
        meta = indexStore.table(.meta)
        // The objects table's layout assumes the index takes keys of 511 bytes (ObjectKeyLayout).
        guard indexStore.maxKeySize >= ObjectKeyLayout.indexKeyLimit else {
            close(lockFile)
            throw EngineError.io(
                "the index takes keys of at most \(indexStore.maxKeySize) bytes (liblmdb's MDB_MAXKEYSIZE for LMDB); Depot needs \(ObjectKeyLayout.indexKeyLimit)"
            )
        }
        let metaTable = meta
        let sequence = try indexStore.read { txn in
            try txn.get(metaTable, Tables.sequenceKey).map { try $0.decode { try $0.u64() } } ?? 1
        }
        reclaim = ReclaimGate()
        dataPathStore = configuration.chunkStore.map { .other($0) } ?? .segments(store)
        committer = Committer(indexStore: indexStore, store: dataPathStore, nextSequence: sequence, logger: logger)
        // An index from before usage was kept, or rebuilt from the segments: count it once.
        do { try countUsageIfNeeded() } catch { logger.error("could not count the owners' usage for quotas: \(error)") }
        // An index from before accounts and settings were logged: log them once (KeyedItems.swift).
        do { try logKeyedItemsIfNeeded() } catch {
            logger.error("could not log the stored accounts and settings for index rebuilds (next start retries): \(error)")
        }
        // The console's figures from before the restart (IngestHistoryFile.swift).
        restoreIngestHistory()
    }

    /// Finishes queued commits; the data directory is released when the engine is let go.
    public func shutdown() {
        saveIngestHistory()
        committer.shutdown()
    }

    deinit {
        committer.shutdown()
        close(lockFile)
    }

    /// Milliseconds since the Unix epoch (the unit of every stored time).
    public static func now() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    // MARK: Buckets

    // The name rules: BucketName.swift.

    /// `objectLock`: S3 Object Lock from the start, which turns versioning on for good.
    public func createBucket(_ name: String, owner: String, region: String? = nil, objectLock: Bool = false) async throws {
        guard Self.isValidBucketName(name) else { throw EngineError.invalidBucketName(name) }
        var newRecord = BucketRecord(created: Self.now(), owner: owner, region: region ?? configuration.region)
        if objectLock {
            newRecord.versioning = .enabled
            newRecord.objectLock = BucketObjectLock()
        }
        let record = newRecord
        let table = buckets
        do {
            try await committer.submit { txn, context in
                if let existing = try txn.get(table, Array(name.utf8)) {
                    let current = try existing.decode { try BucketRecord.decode(&$0) }
                    throw current.owner == owner
                        ? EngineError.bucketAlreadyOwnedByYou(name) : EngineError.bucketAlreadyExists(name)
                }
                _ = try context.log(.bucketCreate(name: name, record: record))
                try txn.put(table, Array(name.utf8), record.encoded())
            }
        } catch { throw EngineError.wrap(error) }
    }

    public func deleteBucket(_ name: String) async throws {
        let (bucketTable, objectTable, engineRef) = (buckets, objects, self)
        do {
            try await committer.submit { txn, context in
                guard try txn.contains(bucketTable, Array(name.utf8)) else { throw EngineError.noSuchBucket(name) }
                let prefix = ObjectKeyLayout(bucket: name).bucketPrefix
                var empty = true
                try txn.scan(objectTable, from: prefix) { key, _ in
                    empty = !key.starts(with: prefix)
                    return false
                }
                guard empty else { throw EngineError.bucketNotEmpty(name) }
                // Versions and delete markers keep a versioned bucket from being deleted, as in S3.
                guard try engineRef.hasNoVersions(name, txn: txn) else { throw EngineError.bucketNotEmpty(name) }
                _ = try context.log(.bucketDelete(name: name))
                try txn.delete(bucketTable, Array(name.utf8))
            }
        } catch { throw EngineError.wrap(error) }
    }

    public func bucket(_ name: String) throws -> BucketRecord? {
        try indexStore.readOne(buckets, Array(name.utf8)).map { try $0.decode { try BucketRecord.decode(&$0) } }
    }

    /// Buckets in name order, starting after `after`, at most `limit`.
    public func listBuckets(after: String = "", limit: Int = .max) throws -> [(name: String, record: BucketRecord)] {
        let table = buckets
        return try indexStore.read { txn in
            var out: [(String, BucketRecord)] = []
            let start = after.isEmpty ? [] : Array(after.utf8) + [0]
            try txn.scan(table, from: start) { key, value in
                guard out.count < limit else { return false }
                var r = BinaryReader(value)
                out.append((String(decoding: key, as: UTF8.self), try BucketRecord.decode(&r)))
                return true
            }
            return out
        }
    }

    /// The one read-modify-write of a bucket's settings (tags, versioning, Object Lock, the named
    /// documents of `BucketRecord.documents`): runs `update` inside a commit and, when it returns
    /// true (something changed), logs the record as a fresh create record, so a rebuilt index
    /// keeps it, and stores it. `update` may throw to refuse the change; nothing is written then.
    public func updateBucket(
        _ name: String, _ update: @escaping @Sendable (inout BucketRecord, borrowing Transaction) throws -> Bool
    ) async throws {
        let table = buckets
        do {
            try await committer.submit { txn, context in
                guard let bytes = try txn.get(table, Array(name.utf8)) else { throw EngineError.noSuchBucket(name) }
                var record = try bytes.decode { try BucketRecord.decode(&$0) }
                guard try update(&record, txn) else { return }
                _ = try context.log(.bucketCreate(name: name, record: record))
                try txn.put(table, Array(name.utf8), record.encoded())
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Sets (or, with nil, removes) one named bucket document such as a policy or a CORS
    /// configuration, already validated by the caller.
    public func setBucketDocument(_ bucket: String, name: String, _ value: [UInt8]?) async throws {
        try await updateBucket(bucket) { record, _ in
            guard record.document(name) != value else { return false }
            record.setDocument(name, value)
            return true
        }
    }

    // MARK: Object lookups

    /// Throws `keyTooLong` for a key longer than S3's 1,024 bytes (never truncated). Every key
    /// up to that fits in every bucket (ObjectKeyLayout).
    public func checkKeyLength(bucket: String, key: String) throws {
        if key.utf8.count > Self.maximumKeyLength { throw EngineError.keyTooLong(maximum: Self.maximumKeyLength) }
    }

    public func headObject(bucket: String, key: String) throws -> ObjectRecord? {
        try indexStore.object(objects, bucket: bucket, key: key)
    }

    func chunkEntry(_ hash: [UInt8]) throws -> ChunkEntry? {
        try indexStore.readOne(chunks, hash).map { try ChunkEntry.decode($0) }
    }

    // MARK: Reference counting (runs inside commit batches)

    /// Adds one reference per manifest entry; a chunk new to the index is inserted at the place
    /// where its upload appended it (copied out first if compaction retired that segment).
    func addReferences(_ placements: [ChunkPlacement], txn: borrowing Transaction, context: CommitContext) throws {
        for placement in placements {
            if let bytes = try txn.get(chunks, placement.hash) {
                var entry = try ChunkEntry.decode(bytes)
                entry.references += 1
                try txn.put(chunks, placement.hash, entry.encoded())
            } else {
                var location = placement.location
                // A deduplicated chunk whose last reference went while this upload ran may have
                // been punched out since (HolePunching.swift): its bytes are gone, so the upload
                // fails (clients retry a 500) rather than store zeros.
                if dataPathStore.wasDiscarded(location) {
                    throw EngineError.io("chunk \(location) was reclaimed while this upload ran; retry the upload")
                }
                // Cluster mode: a pack compaction retired (PackCompaction.swift) is read, not pointed into.
                let retired =
                    dataPathStore.isSegments
                    ? reclaim.isRetired(location.segment) : try isPackRetired(dataPathStore.liveUnit(location), txn: txn)
                if retired {
                    let payload = try dataPathStore.readPayload(location)
                    location = try payload.withUnsafeBytes {
                        try dataPathStore.append(kind: .chunk, hash: placement.hash, payload: $0)
                    }
                }
                try txn.put(chunks, placement.hash, ChunkEntry(location: location, references: 1).encoded())
                context.liveDelta[dataPathStore.liveUnit(location), default: 0] +=
                    Int64(RecordHeader.size) + Int64(location.length)
            }
        }
    }

    /// Drops one reference per manifest entry; a chunk left with none leaves the index and its
    /// bytes become garbage for compaction.
    func dropReferences(_ manifest: [ChunkRef], txn: borrowing Transaction, context: CommitContext) throws {
        for ref in manifest {
            guard let bytes = try txn.get(chunks, ref.hash) else { continue }
            var entry = try ChunkEntry.decode(bytes)
            if entry.references > 1 {
                entry.references -= 1
                try txn.put(chunks, ref.hash, entry.encoded())
            } else {
                try txn.delete(chunks, ref.hash)
                context.liveDelta[dataPathStore.liveUnit(entry.location), default: 0] -=
                    Int64(RecordHeader.size) + Int64(entry.location.length)
            }
        }
    }
}

/// A chunk an upload produced: its hash and where its bytes are (appended by this upload, or an
/// existing copy found by dedup).
struct ChunkPlacement: Sendable {
    var hash: [UInt8]
    var location: RecordLocation
}
