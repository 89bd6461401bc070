import DepotHashing
import DepotStorage
import Glibc

/// What `depot fsck --rebuild-index` found and wrote.
public struct RebuildReport: Sendable {
    public var segments = 0
    public var records = 0
    public var buckets = 0
    /// The buckets' named settings documents by name (`policy`, `cors`, `lifecycle`, ...).
    public var bucketDocuments: [String: Int] = [:]
    public var objects = 0
    /// Entries written to the versions table (versioned buckets' versions and delete markers).
    public var versions = 0
    public var chunks = 0
    /// Stored accounts (made by the admin API or `depot account add`), restored sealed.
    public var accounts = 0
    /// Admin-made `settings` items by kind: `tier`, `policy`, `job` (replication jobs).
    public var settings: [String: Int] = [:]
    public var encryptionDomains = 0
    /// Tier copies the restored records show PENDING, queued again (tasks are not logged).
    public var requeuedCopies = 0
    public var problems: [String] = []
}

extension Engine {
    /// Rebuilds the LMDB index from the segment files alone, by replaying their log records in
    /// sequence order (the newest record of each bucket, key and logged item wins) and
    /// recounting chunk references from the surviving manifests. The new index is written beside
    /// the old one and swapped in only when complete; the old one is kept as `index.previous`.
    public static func rebuildIndex(
        configuration: EngineConfiguration, progress: (String) -> Void = { _ in },
        advance: (WorkProgress) -> Void = { _ in }
    ) throws -> RebuildReport {
        var report = RebuildReport()
        // The log is in the pack objects then, not in local segments: a rebuild from the (empty)
        // segments would leave an empty index.
        guard configuration.chunkStore == nil else {
            throw EngineError.invalidRequest(
                "the chunks are in the configured chunk store (cluster.chunks): rebuilding the index from pack objects is not supported yet")
        }
        PrivateFiles.makeDirectory(configuration.dataDirectory)
        let lock: Int32
        do {
            lock = try DataDirectoryLock.acquire(configuration.dataDirectory)
        } catch EngineError.dataDirectoryInUse(let detail) {
            throw EngineError.dataDirectoryInUse("stop the server before rebuilding the index (\(detail))")
        }
        defer { close(lock) }

        var chunkLocations: [[UInt8]: RecordLocation] = [:]
        // Chunk records whose payload is not the SHA-256 of their hash: encrypted chunks (their
        // hash is an address, their payload ciphertext), taken only for encrypted objects'
        // manifests; the record CRC vouches for them here, their GCM tag on every read and in fsck.
        var sealedChunkLocations: [[UInt8]: RecordLocation] = [:]
        var domainState: [String: (sequence: UInt64, wrapped: [UInt8])] = [:]
        // Items of the logged tables (accounts, settings): the newest record of each wins.
        var itemState: [ItemName: (sequence: UInt64, value: [UInt8]?)] = [:]
        var bucketState: [String: (sequence: UInt64, record: BucketRecord?)] = [:]
        // Records without version fields (unversioned commits, deletes): the newest per key.
        var objectState: [ObjectName: (sequence: UInt64, location: RecordLocation, record: ObjectRecord?)] = [:]
        // Versions made in versioned buckets, and their removals: the newest per version.
        var versionState: [VersionName: (sequence: UInt64, location: RecordLocation, record: ObjectRecord?)] = [:]
        var maxSequence: UInt64 = 0
        let ids = SegmentStore.listSegmentIds(configuration.segmentDirectory)
        let digest = StreamingDigest(.sha256)
        let paths = ids.map {
            "\(configuration.segmentDirectory)/\(String(repeating: "0", count: max(0, 8 - String($0).count)))\($0).seg"
        }
        var meter = WorkProgress(
            phase: "replaying segments", count: 0, unit: "records", totalBytes: WorkProgress.segmentBytes(paths))
        var bytesBefore: UInt64 = 0
        for (n, id) in ids.enumerated() {
            report.segments += 1
            let path = paths[n]
            // Past damage: a bad record must not cost the log records after it.
            let summary = try SegmentScanner.scan(path: path, segment: id, pastDamage: true) { record in
                report.records += 1
                meter.count = report.records
                meter.bytes = bytesBefore + record.location.offset + UInt64(record.location.length)
                advance(meter)
                let seq = record.header.sequence
                maxSequence = max(maxSequence, seq)
                switch record.header.kind {
                case .chunk:
                    digest.update(record.payload)
                    if digest.finalize() == record.header.hash {
                        if chunkLocations[record.header.hash] == nil { chunkLocations[record.header.hash] = record.location }
                    } else if sealedChunkLocations[record.header.hash] == nil {
                        sealedChunkLocations[record.header.hash] = record.location
                    }
                case .encryptionDomain:
                    guard
                        case .encryptionDomain(let keyId, let wrapped)? = try LogPayload.decode(
                            kind: record.header.kind, payload: record.payload)
                    else { return }
                    if (domainState[keyId]?.sequence ?? 0) <= seq { domainState[keyId] = (seq, wrapped) }
                case .keyedItem:
                    guard
                        case .keyedItem(let table, let key, let value)? = try LogPayload.decode(
                            kind: record.header.kind, payload: record.payload)
                    else { return }
                    let name = ItemName(table: table, key: key)
                    if (itemState[name]?.sequence ?? 0) <= seq { itemState[name] = (seq, value) }
                case .objectCommit, .objectDelete, .bucketCreate, .bucketDelete, .versionDelete:
                    guard let payload = try LogPayload.decode(kind: record.header.kind, payload: record.payload) else { return }
                    switch payload {
                    case .encryptionDomain, .keyedItem: break
                    case .objectCommit(let bucket, let key, let object) where object.versionOrder != 0:
                        let k = VersionName(bucket: bucket, key: key, order: object.versionOrder)
                        if (versionState[k]?.sequence ?? 0) <= seq { versionState[k] = (seq, record.location, object) }
                    case .versionDelete(let bucket, let key, let order):
                        let k = VersionName(bucket: bucket, key: key, order: order)
                        if (versionState[k]?.sequence ?? 0) <= seq { versionState[k] = (seq, record.location, nil) }
                    case .objectCommit(let bucket, let key, let object):
                        let k = ObjectName(bucket: bucket, key: key)
                        if (objectState[k]?.sequence ?? 0) <= seq { objectState[k] = (seq, record.location, object) }
                    case .objectDelete(let bucket, let key):
                        let k = ObjectName(bucket: bucket, key: key)
                        if (objectState[k]?.sequence ?? 0) <= seq { objectState[k] = (seq, record.location, nil) }
                    case .bucketCreate(let name, let bucket):
                        if (bucketState[name]?.sequence ?? 0) <= seq { bucketState[name] = (seq, bucket) }
                    case .bucketDelete(let name):
                        if (bucketState[name]?.sequence ?? 0) <= seq { bucketState[name] = (seq, nil) }
                    }
                }
            }
            report.problems += summary.damage.map { "\($0); its records were not replayed" }
            if summary.trailingBytes > 0 { progress("segment \(id): ignoring \(summary.trailingBytes) bytes of torn tail") }
            progress("segment \(n + 1)/\(ids.count): \(summary.records) records")
            bytesBefore += WorkProgress.segmentBytes([path])
            // The whole file is read, past its last record (a torn tail, unused room).
            meter.bytes = bytesBefore
            advance(meter)
        }

        let target = configuration.dataDirectory + "/index.rebuild"
        removeTree(target)
        var references: [[UInt8]: UInt64] = [:]
        var liveBytes: [UInt32: UInt64] = [:]
        // Encrypted objects' chunks are found among the sealed records, and only theirs.
        let encryptedObjects = (objectState.values.compactMap(\.record) + versionState.values.compactMap(\.record))
            .filter { $0.encryption != nil }
        for object in encryptedObjects {
            for ref in object.manifest where chunkLocations[ref.hash] == nil {
                if let location = sealedChunkLocations[ref.hash] { chunkLocations[ref.hash] = location }
            }
        }
        do {
            let environment = try LMDBEnvironment(path: target, tables: Tables.all)
            let (buckets, objects, chunks, segments, meta) = (
                environment.table(.buckets), environment.table(.objects), environment.table(.chunks),
                environment.table(.segments), environment.table(.meta)
            )
            try environment.write { txn in
                for (name, state) in bucketState {
                    guard let bucket = state.record else { continue }
                    try txn.put(buckets, Array(name.utf8), bucket.encoded())
                    report.buckets += 1
                    for document in bucket.documents { report.bucketDocuments[document.name, default: 0] += 1 }
                }
                // Every surviving version of every key, then the current one (the newest) indexed
                // as the object unless it is a delete marker; each version holds its references.
                var keyVersions: [ObjectName: [ObjectRecord]] = [:]
                func survive(_ name: ObjectName, _ state: (sequence: UInt64, location: RecordLocation, record: ObjectRecord?)) {
                    guard var object = state.record, bucketState[name.bucket]?.record != nil else { return }
                    if object.localState == .present,
                        let missing = object.manifest.first(where: { chunkLocations[$0.hash] == nil })
                    {
                        report.problems.append(
                            "object \(name.bucket)/\(name.key) lost chunk \(Hex.encode(missing.hash)); left out"
                        )
                        return
                    }
                    object.commitLocation = state.location
                    object.sequence = state.sequence
                    keyVersions[name, default: []].append(object)
                }
                for (name, state) in objectState {
                    // A versioned bucket's record of that null version, or its removal, is newer.
                    if versionState[VersionName(bucket: name.bucket, key: name.key, order: state.sequence)] != nil { continue }
                    survive(name, state)
                }
                for (name, state) in versionState { survive(ObjectName(bucket: name.bucket, key: name.key), state) }
                let versionTable = environment.table(.versions)
                // The tasks table is working state that no log record carries: every copy the
                // restored records still show PENDING gets its task queued again below, or it
                // would stay PENDING for ever (a re-queue request skips copies already on their way).
                var pendingCopies: [TierTask] = []
                for (name, found) in keyVersions {
                    let versioned = bucketState[name.bucket]?.record?.versioning != .unversioned
                    let newestFirst = found.map { versioned ? $0.asVersion : $0 }.sorted { $0.effectiveOrder > $1.effectiveOrder }
                    for object in newestFirst { for ref in object.heldChunks { references[ref.hash, default: 0] += 1 } }
                    if versioned {
                        for object in newestFirst { try txn.putVersion(versionTable, bucket: name.bucket, key: name.key, object) }
                        report.versions += newestFirst.count
                    }
                    for (index, object) in newestFirst.enumerated() where !object.isDeleteMarker {
                        for replica in object.replicas where replica.state == .pending {
                            var task = TierTask(
                                kind: .replicate, bucket: name.bucket, key: name.key, objectCreated: object.created,
                                tier: replica.tier)
                            // Older versions hold copies of their own only under `replicate.versions: all`.
                            task.everyVersion = index > 0
                            pendingCopies.append(task)
                        }
                    }
                    guard let current = newestFirst.first, !current.isDeleteMarker else { continue }
                    try txn.putObject(objects, bucket: name.bucket, key: name.key, current)
                    report.objects += 1
                }
                let tasks = environment.table(.tasks)
                let taskIdBase = UInt64(Engine.now()) << 20
                for (n, task) in pendingCopies.enumerated() {
                    try txn.put(tasks, TierTask.tableKey(due: Engine.now(), id: taskIdBase &+ UInt64(n)), task.encoded())
                }
                report.requeuedCopies = pendingCopies.count
                for (hash, count) in references {
                    guard let location = chunkLocations[hash] else { continue }
                    try txn.put(chunks, hash, ChunkEntry(location: location, references: count).encoded())
                    liveBytes[location.segment, default: 0] += UInt64(RecordHeader.size) + UInt64(location.length)
                    report.chunks += 1
                }
                for (segment, bytes) in liveBytes {
                    var w = BinaryWriter()
                    w.u64(bytes)
                    try txn.put(segments, Tables.segmentKey(segment), w.bytes)
                }
                for (keyId, state) in domainState {
                    try txn.put(meta, Engine.domainKey(keyId), state.wrapped)
                    report.encryptionDomains += 1
                }
                for (name, state) in itemState {
                    guard let value = state.value else { continue }
                    guard Tables.logs(table: name.table, key: name.key) else {
                        report.problems.append("a log record names \(name.table)/\(name.key), not an item Depot logs; left out")
                        continue
                    }
                    try txn.put(environment.table(name.table), Array(name.key.utf8), value)
                    if name.table == IndexTable.accounts.rawValue {
                        report.accounts += 1
                    } else {
                        report.settings[String(name.key.prefix { $0 != "/" }), default: 0] += 1
                    }
                }
                // Every item restored has its record: none to log at the next start.
                try txn.put(meta, Engine.keyedItemsLoggedKey, [1])
                var w = BinaryWriter()
                w.u64(maxSequence + 1)
                try txn.put(meta, Tables.sequenceKey, w.bytes)
                // Object Lock's clock (ObjectLockRules.swift): the old index's highest time is gone,
                // but no lock decision may use a time earlier than a version's creation.
                if let latestSeen = keyVersions.values.joined().map(\.created).max(), latestSeen > 0 {
                    var clock = BinaryWriter()
                    clock.u64(UInt64(latestSeen))
                    try txn.put(meta, Engine.lockClockKey, clock.bytes)
                }
            }
        } catch {
            removeTree(target)
            throw EngineError.wrap(error)
        }
        let previous = configuration.dataDirectory + "/index.previous"
        removeTree(previous)
        rename(configuration.indexDirectory, previous)
        guard rename(target, configuration.indexDirectory) == 0 else {
            throw EngineError.io("cannot move the rebuilt index into place: \(String(cString: strerror(errno)))")
        }
        return report
    }
}

/// An object's bucket and key, as the log records name it.
private struct ObjectName: Hashable {
    var bucket: String
    var key: String
}

/// An item of a logged table (accounts, settings).
private struct ItemName: Hashable {
    var table: String
    var key: String
}

/// One version of an object, by its order.
private struct VersionName: Hashable {
    var bucket: String
    var key: String
    var order: UInt64
}

/// Removes a directory of plain files (an LMDB environment).
func removeTree(_ path: String) {
    guard let dir = opendir(path) else { return }
    while let entry = readdir(dir) {
        let name = withUnsafeBytes(of: entry.pointee.d_name) {
            String(cString: $0.baseAddress!.assumingMemoryBound(to: CChar.self))
        }
        if name != "." && name != ".." { unlink(path + "/" + name) }
    }
    closedir(dir)
    rmdir(path)
}
