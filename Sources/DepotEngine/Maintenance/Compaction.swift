import DepotStorage
import Synchronization

/// What one compaction pass did.
public struct CompactionReport: Sendable {
    public var segmentsCompacted = 0
    public var bytesCopied: UInt64 = 0
    public var bytesReclaimed: UInt64 = 0
    /// Bytes of dead records given back by punching holes (no copying).
    public var bytesPunched: UInt64 = 0
}

extension Engine {
    /// Live bytes recorded for a segment (chunk records still referenced by the index).
    func liveBytes(of segment: UInt32) throws -> UInt64 {
        let table = segments
        return try environment.read { txn in
            try txn.get(table, Tables.segmentKey(segment)).map { try $0.decode { try $0.u64() } } ?? 0
        }
    }

    /// Copies the live records out of sealed segments whose live ratio is below `threshold`, then
    /// retires those segments; their files are deleted once no upload or read still uses them.
    /// The emptiest segments go first: they free the most for the least copying, and a segment
    /// with nothing live needs no free space at all, so a full device recovers with them.
    public func compact(threshold: Double = 0.5, progress: (String) -> Void = { _ in }) async throws -> CompactionReport {
        var report = CompactionReport()
        guard compactionRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return report  // another pass is running; it does the same work
        }
        defer { compactionRunning.store(false, ordering: .releasing) }
        report.bytesPunched = try await punchDeadRecords(progress: progress) ?? 0
        let active = store.activeSegmentId
        var candidates: [(id: UInt32, size: Int, live: UInt64)] = []
        for id in store.segmentIds where id < active {
            // Bytes the file occupies: a segment whose dead records were punched out is dense.
            let size = min(store.size(of: id), store.allocatedBytes(of: id))
            let live = try liveBytes(of: id)
            guard size > 0, Double(live) / Double(size) < threshold else { continue }
            candidates.append((id, size, live))
        }
        candidates.sort { Double($0.live) / Double($0.size) < Double($1.live) / Double($1.size) }
        for (id, size, live) in candidates {
            try Task.checkCancellation()
            // Copying live records needs room for them (the reserve may be used); a segment
            // that does not fit now waits for a later pass instead of filling the device.
            if live > 0, let space = store.deviceSpace(), space.free < live + live / 8 + (1 << 20) {
                progress("segment \(id): \(live) live bytes do not fit in \(space.free) free; skipped")
                continue
            }
            let copied = try await compactSegment(id)
            report.segmentsCompacted += 1
            report.bytesCopied += copied
            report.bytesReclaimed += UInt64(size) - min(UInt64(size), copied)
            progress("segment \(id): \(size) bytes, \(live) live, \(copied) copied")
        }
        return report
    }

    private struct ChunkMove: Sendable {
        var hash: [UInt8]
        var from: RecordLocation
        var to: RecordLocation
    }

    private struct CommitMove: Sendable {
        var bucket: String
        var key: String
        var sequence: UInt64
        var to: RecordLocation
        /// The version the record is of (its order), for the versions table.
        var order: UInt64
    }

    private func compactSegment(_ id: UInt32) async throws -> UInt64 {
        var chunkMoves: [ChunkMove] = []
        var commitMoves: [CommitMove] = []
        var copied: UInt64 = 0
        let (chunkTable, objectTable, bucketTable, versionTable) = (chunks, objects, buckets, self.versionTable)
        _ = try SegmentScanner.scan(path: store.path(of: id), segment: id) { record in
            let keep: Bool = try environment.read { txn in
                switch record.header.kind {
                case .chunk:
                    let entry = try txn.get(chunkTable, record.header.hash).map(ChunkEntry.decode)
                    return entry?.location == record.location
                case .objectCommit, .objectDelete, .versionDelete:
                    guard case .some(let payload) = try LogPayload.decode(kind: record.header.kind, payload: record.payload)
                    else { return false }
                    switch payload {
                    case .objectCommit(let bucket, let key, let object):
                        let current = try txn.object(objectTable, bucket: bucket, key: key, withManifest: false)
                        if current?.sequence == record.header.sequence { return true }
                        // A version of a versioned bucket that its versions entry points at.
                        let order = object.versionOrder != 0 ? object.versionOrder : record.header.sequence
                        let version = try txn.versionEntry(versionTable, bucket: bucket, key: key, order: order)
                        return version?.effectiveOrder == order && version?.sequence == record.header.sequence
                    case .versionDelete(let bucket, let key, let order):
                        // A tombstone hides older records of a version that is gone.
                        let current = try txn.object(objectTable, bucket: bucket, key: key, withManifest: false)
                        if current?.effectiveOrder == order { return false }
                        let version = try txn.versionEntry(versionTable, bucket: bucket, key: key, order: order)
                        return version?.effectiveOrder != order
                    case .objectDelete(let bucket, let key):
                        // A tombstone still hides older commit records of a key that does not exist.
                        return try !txn.containsObject(objectTable, bucket: bucket, key: key)
                    default: return false
                    }
                case .bucketCreate, .bucketDelete:
                    guard case .some(let payload) = try LogPayload.decode(kind: record.header.kind, payload: record.payload)
                    else { return false }
                    switch payload {
                    case .bucketCreate(let name, _): return try txn.contains(bucketTable, Array(name.utf8))
                    case .bucketDelete(let name): return try !txn.contains(bucketTable, Array(name.utf8))
                    default: return false
                    }
                }
            }
            guard keep else { return }
            let to = try record.payload.withUnsafeBytes {
                try store.append(
                    kind: record.header.kind, sequence: record.header.sequence, hash: record.header.hash, payload: $0)
            }
            copied += UInt64(RecordHeader.size + record.payload.count)
            switch record.header.kind {
            case .chunk:
                chunkMoves.append(ChunkMove(hash: record.header.hash, from: record.location, to: to))
            case .objectCommit:
                if case .some(.objectCommit(let bucket, let key, let object)) = try LogPayload.decode(
                    kind: .objectCommit, payload: record.payload)
                {
                    commitMoves.append(
                        CommitMove(
                            bucket: bucket, key: key, sequence: record.header.sequence, to: to,
                            order: object.versionOrder != 0 ? object.versionOrder : record.header.sequence))
                }
            default: break
            }
        }
        let (moves, commits, gate, segmentTable) = (chunkMoves, commitMoves, reclaim, segments)
        try await committer.submit { txn, context in
            for move in moves {
                guard var entry = try txn.get(chunkTable, move.hash).map(ChunkEntry.decode), entry.location == move.from
                else { continue }
                entry.location = move.to
                try txn.put(chunkTable, move.hash, entry.encoded())
                context.liveDelta[move.to.segment, default: 0] += Int64(RecordHeader.size) + Int64(move.to.length)
            }
            for move in commits {
                if var version = try txn.versionEntry(versionTable, bucket: move.bucket, key: move.key, order: move.order),
                    version.sequence == move.sequence
                {
                    version.commitLocation = move.to
                    try txn.putVersion(versionTable, bucket: move.bucket, key: move.key, version)
                }
                guard var record = try txn.object(objectTable, bucket: move.bucket, key: move.key),
                    record.sequence == move.sequence
                else { continue }
                record.commitLocation = move.to
                try txn.putObject(objectTable, bucket: move.bucket, key: move.key, record)
            }
            try txn.delete(segmentTable, Tables.segmentKey(id))
            gate.retire(id)
        }
        reclaim.collect().forEach(store.remove)
        return copied
    }
}
