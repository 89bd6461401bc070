import DepotHashing
import DepotStorage

/// The half of an index rebuild that does not care where the log records come from: local
/// segments (embedded `depot fsck --rebuild-index`) or pack objects (the cluster rebuild, which
/// feeds it the packs of every writer). It keeps, per bucket, key, version and logged item, the
/// record with the highest sequence number, so the order records arrive in does not matter
/// (packs of several writers interleave), then writes the surviving state into an empty index
/// store (LMDB, PostgreSQL) in one transaction, each table as `IndexTable.rebuildFate` says.
struct LogReplay {
    private var chunkLocations: [[UInt8]: RecordLocation] = [:]
    // Chunk records whose payload is not the SHA-256 of their hash: encrypted chunks (their
    // hash is an address, their payload ciphertext), taken only for encrypted objects'
    // manifests; the record CRC vouches for them here, their GCM tag on every read and in fsck.
    private var sealedChunkLocations: [[UInt8]: RecordLocation] = [:]
    private var domainState: [String: (sequence: UInt64, wrapped: [UInt8])] = [:]
    // Items of the logged tables (accounts, settings): the newest record of each wins.
    private var itemState: [ItemName: (sequence: UInt64, value: [UInt8]?)] = [:]
    private var bucketState: [String: (sequence: UInt64, record: BucketRecord?)] = [:]
    // Records without version fields (unversioned commits, deletes): the newest per key.
    private var objectState: [ObjectName: (sequence: UInt64, location: RecordLocation, record: ObjectRecord?)] = [:]
    // Versions made in versioned buckets, and their removals: the newest per version.
    private var versionState: [VersionName: (sequence: UInt64, location: RecordLocation, record: ObjectRecord?)] = [:]
    /// The highest sequence number any record carries (the index's next one is above it).
    private(set) var maxSequence: UInt64 = 0
    private let digest = StreamingDigest(.sha256)
    /// Packs that hold a record: each gets its live-bytes row, 0 when no chunk in it is live, as
    /// commits write it (README "Pack compaction and fsck in cluster mode"), so compaction and
    /// fsck see it as a pack of the index, not an orphan whose log records could be deleted.
    private var packsSeen: Set<LiveUnit> = []

    /// Takes one intact record at its place (`record.location` must be where the index will
    /// point: a segment location, or a pack's).
    mutating func take(_ record: ScannedRecord) throws {
        let seq = record.header.sequence
        maxSequence = max(maxSequence, seq)
        if case let unit = LiveUnit(record.location), unit.isPack { packsSeen.insert(unit) }
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

    /// Writes what survived into `index`, which must hold none of the restored or recounted
    /// tables' rows (a fresh LMDB file, a freshly initialised database), in one transaction.
    /// Chunk references are recounted from the surviving manifests; live bytes are counted per
    /// segment or pack (`LiveUnit`), so the same code serves both.
    mutating func write(into index: any IndexStore, report: inout RebuildReport) throws {
        // Encrypted objects' chunks are found among the sealed records, and only theirs.
        let encryptedObjects = (objectState.values.compactMap(\.record) + versionState.values.compactMap(\.record))
            .filter { $0.encryption != nil }
        for object in encryptedObjects {
            for ref in object.manifest where chunkLocations[ref.hash] == nil {
                if let location = sealedChunkLocations[ref.hash] { chunkLocations[ref.hash] = location }
            }
        }
        let (buckets, objects, chunks, segments, meta) = (
            index.table(.buckets), index.table(.objects), index.table(.chunks), index.table(.segments), index.table(.meta)
        )
        let (bucketState, objectState, versionState, chunkLocations) = (
            self.bucketState, self.objectState, self.versionState, self.chunkLocations
        )
        let (domainState, itemState, maxSequence) = (self.domainState, self.itemState, self.maxSequence)
        let packsSeen = self.packsSeen
        // The body may run again (a store's retry): it builds its report from scratch each time.
        let start = report
        report = try index.write { txn in
            var report = start
            var references: [[UInt8]: UInt64] = [:]
            var liveBytes: [LiveUnit: UInt64] = [:]
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
            let versionTable = index.table(.versions)
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
            let tasks = index.table(.tasks)
            let taskIdBase = UInt64(Engine.now()) << 20
            for (n, task) in pendingCopies.enumerated() {
                try txn.put(tasks, TierTask.tableKey(due: Engine.now(), id: taskIdBase &+ UInt64(n)), task.encoded())
            }
            report.requeuedCopies = pendingCopies.count
            for (hash, count) in references {
                guard let location = chunkLocations[hash] else { continue }
                try txn.put(chunks, hash, ChunkEntry(location: location, references: count).encoded())
                liveBytes[LiveUnit(location), default: 0] += UInt64(RecordHeader.size) + UInt64(location.length)
                report.chunks += 1
            }
            for unit in packsSeen where liveBytes[unit] == nil { liveBytes[unit] = 0 }
            for (unit, bytes) in liveBytes {
                var w = BinaryWriter()
                w.u64(bytes)
                try txn.put(segments, unit.indexKey, w.bytes)
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
                try txn.put(index.table(name.table), Array(name.key.utf8), value)
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
            return report
        }
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
