import DepotStorage

/// A chunk record compaction copied (segment compaction, Compaction.swift, and pack compaction,
/// PackCompaction.swift): its index entry is pointed at `to` only while it still points at `from`.
struct ChunkMove: Sendable {
    var hash: [UInt8]
    var from: RecordLocation
    var to: RecordLocation
}

/// An object commit record compaction copied: the object row, and its version row, are pointed at
/// `to` only while they still hold the same write (`sequence`).
struct CommitMove: Sendable {
    var bucket: String
    var key: String
    var sequence: UInt64
    /// The version the record is of (its order), for the versions table.
    var order: UInt64
    var to: RecordLocation

    /// The move for a log record copied to `to`; nil for a record that is not an object commit.
    init?(copied header: RecordHeader, payload: [UInt8], to: RecordLocation) throws {
        guard header.kind == .objectCommit,
            case .some(.objectCommit(let bucket, let key, let object)) = try LogPayload.decode(
                kind: .objectCommit, payload: payload)
        else { return nil }
        self.bucket = bucket
        self.key = key
        self.sequence = header.sequence
        self.order = object.versionOrder != 0 ? object.versionOrder : header.sequence
        self.to = to
    }
}

/// The one step that points the index at compaction's copies, inside a commit. Both kinds of
/// compaction copy first and commit after, while writers go on: a chunk entry a writer moved or
/// replaced meanwhile, or an object written again, is left as it is (the copy is then simply dead).
struct CompactionMoveCommit: Sendable {
    let chunks: Table
    let objects: Table
    let versions: Table
    let store: DataPathStore

    /// Applies the moves out of `unit` (the segment or pack copied); each chunk moved moves its
    /// live bytes from `unit` to where its copy landed, in `context.liveDelta`.
    func apply(
        _ chunkMoves: [ChunkMove], _ commitMoves: [CommitMove], leaving unit: LiveUnit, txn: borrowing Transaction,
        context: CommitContext
    ) throws {
        for move in chunkMoves {
            guard var entry = try txn.get(chunks, move.hash).map(ChunkEntry.decode), entry.location == move.from
            else { continue }
            entry.location = move.to
            try txn.put(chunks, move.hash, entry.encoded())
            let bytes = Int64(RecordHeader.size) + Int64(move.to.length)
            context.liveDelta[store.liveUnit(move.to), default: 0] += bytes
            context.liveDelta[unit, default: 0] -= bytes
        }
        for move in commitMoves {
            if var version = try txn.versionEntry(versions, bucket: move.bucket, key: move.key, order: move.order),
                version.sequence == move.sequence
            {
                version.commitLocation = move.to
                try txn.putVersion(versions, bucket: move.bucket, key: move.key, version)
            }
            guard var record = try txn.object(objects, bucket: move.bucket, key: move.key), record.sequence == move.sequence
            else { continue }
            record.commitLocation = move.to
            try txn.putObject(objects, bucket: move.bucket, key: move.key, record)
        }
    }
}

extension Engine {
    /// Copies a live chunk record compaction keeps into the open segment or pack; returns its move
    /// (applied by the commit step, if the chunk still points where the record was) and the bytes copied.
    func copyChunk(_ record: ScannedRecord) throws -> (move: ChunkMove, bytes: UInt64) {
        let to = try record.payload.withUnsafeBytes {
            try dataPathStore.append(kind: .chunk, sequence: record.header.sequence, hash: record.header.hash, payload: $0)
        }
        let move = ChunkMove(hash: record.header.hash, from: record.location, to: to)
        return (move, UInt64(RecordHeader.size + record.payload.count))
    }

    /// The tables and store compaction's commit step needs, taken out for a commit closure.
    var compactionMoveCommit: CompactionMoveCommit {
        CompactionMoveCommit(chunks: chunks, objects: objects, versions: versionTable, store: dataPathStore)
    }
}
