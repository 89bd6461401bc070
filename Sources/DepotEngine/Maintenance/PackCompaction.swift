import DepotStorage
import Glibc

/// Pack compaction (cluster mode; README "Pack compaction"): packs whose live ratio is low are
/// repacked, their live records copied into this node's open pack and the index pointed at the
/// copies, then the old pack is deleted from the store once a grace period has passed.
///
/// Safety against other nodes, which write the same index at the same time:
/// - Live bytes are counted per pack (`LiveUnit`, the `segments` rows keyed by writer and
///   sequence), in the same transactions that add or drop chunk references.
/// - A chunk entry is moved only if it still points at the old place, in a commit batch; a
///   writer that deduplicated onto the chunk meanwhile updates the same row, so one of the two
///   transactions meets a serialization failure and is run again on the other's result.
/// - Retiring a pack writes its live-bytes row (to 0) and a retirement row. A commit that
///   re-inserts a chunk whose last reference went while its upload ran (it deduplicated onto it
///   before) reads the retirement row and copies the chunk out of the pack instead of pointing
///   into it (`Engine.addReferences`); one that read the index before the retirement committed
///   writes the same live-bytes row and so is run again.
/// - The object is deleted only `graceSeconds` after retirement, by whichever node compacts
///   then: a read that resolved its chunk locations just before (a GET resolves an object's
///   locations when it opens it) still finds the bytes until its response ends.
/// - Two nodes compacting at once cost copies, never data (each move checks the old place); the
///   server runs compaction under a PostgreSQL advisory lock so one node does it at a time.
public struct PackCompactionSettings: Sendable {
    /// Packs whose live bytes are below this fraction of their size are repacked.
    public var threshold: Double = 0.5
    /// Per round: at most this many packs repacked, and this many live bytes copied.
    public var maxPacksPerRound = 32
    public var maxBytesPerRound = 256 << 20
    /// How long a retired pack stays in the store: an hour covers a GET that resolved its
    /// locations just before the move and streams a multi-GiB recording to a slow client
    /// (`server.minTransferRate` bounds how slow), and a commit whose upload deduplicated onto
    /// the pack's chunks long before. `DEPOT_PACK_GRACE_SECONDS` overrides it (tests).
    public var graceSeconds: Double = 3600

    public init() {
        if let text = getenv("DEPOT_PACK_GRACE_SECONDS").map({ String(cString: $0) }), let value = Double(text), value >= 0 {
            graceSeconds = value
        }
    }
}

/// The retirement rows of the `segments` table: `R`, writer, sequence (9 bytes) -> retired at (ms),
/// then, once the pack is deleted from the store, retired at and deleted at (16 bytes). The row
/// outlives the pack (17 bytes per pack compacted): an upload that deduplicated onto a chunk of
/// the pack more than the grace period before its commit, and whose chunk lost its last reference
/// meanwhile, still finds the pack retired, tries to copy the chunk out of it and fails, instead of
/// pointing the index at a pack that is gone.
enum PackRetirement {
    static let prefix: UInt8 = 0x52

    static func key(_ unit: LiveUnit) -> [UInt8] { [prefix] + unit.indexKey }

    static func unit(ofKey key: some Collection<UInt8>) -> LiveUnit? {
        guard key.count == 9, key.first == prefix else { return nil }
        return LiveUnit(indexKey: key.dropFirst())
    }
}

extension Engine {
    /// Whether a pack was retired by compaction (read inside a commit: see PackCompactionSettings).
    func isPackRetired(_ unit: LiveUnit, txn: borrowing Transaction) throws -> Bool {
        try unit.isPack && txn.contains(segments, PackRetirement.key(unit))
    }

    func liveBytes(ofPack unit: LiveUnit) throws -> UInt64 {
        let table = segments
        return try indexStore.read { txn in try txn.get(table, unit.indexKey).map { try $0.decode { try $0.u64() } } ?? 0 }
    }

    /// Live bytes by pack, and the packs retired but not yet deleted with when (ms), as the index holds them.
    func packLedger() throws -> (live: [LiveUnit: UInt64], retired: [LiveUnit: Int64]) {
        let table = segments
        return try indexStore.read { txn in
            var live: [LiveUnit: UInt64] = [:]
            var retired: [LiveUnit: Int64] = [:]
            try txn.scan(table) { key, value in
                if let unit = PackRetirement.unit(ofKey: key) {
                    // Still in the store: the deletion after the grace period is to come.
                    if value.count == 8 { retired[unit] = Int64(bitPattern: try Array(value).decode { try $0.u64() }) }
                } else if key.count == 8, let unit = LiveUnit(indexKey: key) {
                    live[unit] = try Array(value).decode { try $0.u64() }
                }
                return true
            }
            return (live, retired)
        }
    }

    /// One round of pack compaction: deletes the packs retired longer than the grace period ago,
    /// then repacks the packs (at most the round's bounds) whose live ratio is below the threshold.
    func compactPacks(
        _ packs: any PackMaintenanceStore, settings: PackCompactionSettings, progress: (String) -> Void
    ) async throws -> CompactionReport {
        var report = CompactionReport()
        let (live, retired) = try packLedger()
        let now = Engine.now()
        for (unit, at) in retired.sorted(by: { $0.value < $1.value }) where Double(now - at) >= settings.graceSeconds * 1000 {
            try Task.checkCancellation()
            try packs.deletePack(unit)
            packs.forgetCached(unit)
            let table = segments
            try await committer.submit { txn, _ in
                var gone = BinaryWriter()
                gone.u64(UInt64(at))
                gone.u64(UInt64(Engine.now()))
                try txn.put(table, PackRetirement.key(unit), gone.bytes)
                try txn.delete(table, unit.indexKey)
            }
            progress("pack \(unit): deleted from the store (retired \((now - at) / 1000) s ago)")
        }
        // Only packs the index counts: a pack without a live-bytes row is one whose commit has
        // not landed yet, or an orphan of a writer killed before it (`depot fsck` reports those).
        var candidates: [(pack: StoredPack, live: UInt64)] = []
        for pack in try packs.listPacks() where retired[pack.unit] == nil {
            guard let bytes = live[pack.unit], pack.size > 0, Double(bytes) / Double(pack.size) < settings.threshold else {
                continue
            }
            candidates.append((pack, bytes))
        }
        candidates.sort { Double($0.live) / Double($0.pack.size) < Double($1.live) / Double($1.pack.size) }
        // Every pack of the round is copied first, then one commit points the index at the
        // copies and retires the packs: so the round's copies land in one new pack (a commit
        // seals the open pack), not one small pack per pack repacked.
        var copies: [PackCopy] = []
        var copiedThisRound = 0
        for (pack, liveBytes) in candidates.prefix(settings.maxPacksPerRound) {
            try Task.checkCancellation()
            if copiedThisRound > 0, copiedThisRound + Int(liveBytes) > settings.maxBytesPerRound { break }
            let copy = try copyOut(pack, live: liveBytes, packs: packs)
            copiedThisRound += Int(copy.copied)
            copies.append(copy)
        }
        guard !copies.isEmpty else { return report }
        let stillLive = try await commitCopies(copies)
        for var copy in copies {
            report.bytesCopied += copy.copied
            if copy.kept == nil, let live = stillLive[copy.unit] {
                copy.kept =
                    "pack \(copy.unit) kept, not compacted: \(live) live bytes in it changed while it was copied; next round"
            }
            if let reason = copy.kept {
                if copy.damaged { report.problems.append(reason) }
                progress(reason)
                continue
            }
            report.segmentsCompacted += 1
            report.bytesReclaimed += UInt64(copy.size) - min(UInt64(copy.size), copy.copied)
            progress("pack \(copy.unit): \(copy.size) bytes, \(copy.live) live, \(copy.copied) copied; retired")
        }
        return report
    }

    /// What copying one pack's live records did, and what its commit must change.
    private struct PackCopy: Sendable {
        var unit: LiveUnit
        var size: Int
        var live: UInt64
        var copied: UInt64 = 0
        /// Why the pack stays (nil: it is retired by the commit).
        var kept: String?
        var damaged = false
        var moves: [ChunkMove] = []
        var commitMoves: [CommitMove] = []
        var logCopies: [RecordLocation] = []
    }

    /// Copies a pack's live records (chunks the index points at, log records a rebuild needs:
    /// `compactionKeeps`) into this node's open pack. Its log records are copied only when it can
    /// go: a pack with damage, or with fewer live chunk bytes found than the index counts, stays
    /// (its intact live chunks are copied out and pointed at either way), with the reason.
    private func copyOut(_ pack: StoredPack, live: UInt64, packs: any PackMaintenanceStore) throws -> PackCopy {
        var copy = PackCopy(unit: pack.unit, size: pack.size, live: live)
        let bytes = try packs.downloadPack(pack.unit, size: pack.size)
        let path = try PackScratch.write(bytes)
        defer { unlink(path) }
        var logRecords: [ScannedRecord] = []
        var chunkBytesFound: UInt64 = 0
        let summary = try SegmentScanner.scan(path: path, segment: pack.unit.sequence, pastDamage: true) { scanned in
            try Task.checkCancellation()
            let record = scanned.moved(
                to: pack.unit.location(offset: Int(scanned.location.offset), length: scanned.location.length))
            guard try compactionKeeps(record) else { return }
            guard record.header.kind == .chunk else {
                logRecords.append(record)
                return
            }
            let (move, bytes) = try copyChunk(record)
            copy.copied += bytes
            chunkBytesFound += bytes
            copy.moves.append(move)
        }
        if let damage = summary.damage.first {
            copy.kept =
                "pack \(pack.unit) kept, not compacted: \(damage); its intact live chunk records were copied out; "
                + "`depot fsck` names the objects affected"
            copy.damaged = true
        } else if case let counted = try liveBytes(ofPack: pack.unit), counted > chunkBytesFound {
            // Read after the scan: a reference dropped meanwhile lowers it, one added means the
            // copy is incomplete either way.
            copy.kept =
                "pack \(pack.unit) kept, not compacted: the index counts \(counted) live chunk bytes in it, "
                + "\(chunkBytesFound) were found intact; `depot fsck` names the objects affected"
            copy.damaged = summary.trailingBytes > 0
        } else if summary.trailingBytes > 0 {
            copy.kept =
                "pack \(pack.unit) kept, not compacted: its records end at offset \(summary.validEnd), "
                + "\(summary.trailingBytes) bytes before its end; `depot fsck` names the objects affected"
            copy.damaged = true
        }
        guard copy.kept == nil else { return copy }
        for record in logRecords {
            let to = try record.payload.withUnsafeBytes {
                try dataPathStore.append(
                    kind: record.header.kind, sequence: record.header.sequence, hash: record.header.hash, payload: $0)
            }
            copy.logCopies.append(to)
            copy.copied += UInt64(RecordHeader.size + record.payload.count)
            if let move = try CommitMove(copied: record.header, payload: record.payload, to: to) {
                copy.commitMoves.append(move)
            }
        }
        return copy
    }

    /// One commit for the round: each chunk entry still at its old place points at its copy,
    /// each commit record moved is pointed at, and each pack whose live bytes reach 0 is retired.
    /// Returns the live bytes of packs that were to be retired but still hold some (a reference
    /// added meanwhile): they stay, for the next round.
    private func commitCopies(_ copies: [PackCopy]) async throws -> [LiveUnit: UInt64] {
        let (moveCommit, segmentTable, store) = (compactionMoveCommit, segments, dataPathStore)
        let now = Engine.now()
        return try await committer.submit { txn, context in
            var stillLive: [LiveUnit: UInt64] = [:]
            for copy in copies {
                let unit = copy.unit
                try moveCommit.apply(copy.moves, copy.commitMoves, leaving: unit, txn: txn, context: context)
                // Kept log records count as live where they land: a pack of nothing but them
                // would otherwise be repacked every round. (Never subtracted: an over-count keeps
                // a pack a little longer, never loses a record.)
                for location in copy.logCopies {
                    context.liveDelta[store.liveUnit(location), default: 0] +=
                        Int64(RecordHeader.size) + Int64(location.length)
                }
                guard copy.kept == nil else { continue }
                let stored = try txn.get(segmentTable, unit.indexKey).map { try $0.decode { try $0.u64() } } ?? 0
                let remaining = Int64(stored) + context.liveDelta[unit, default: 0]
                guard remaining <= 0 else {
                    stillLive[unit] = UInt64(remaining)
                    continue
                }
                // Written, not deleted: a commit that read the index before this one and adds a
                // reference into the pack writes this same row, so one of the two is run again.
                var zero = BinaryWriter()
                zero.u64(0)
                try txn.put(segmentTable, unit.indexKey, zero.bytes)
                context.liveDelta[unit] = nil
                var at = BinaryWriter()
                at.u64(UInt64(now))
                try txn.put(segmentTable, PackRetirement.key(unit), at.bytes)
            }
            return stillLive
        }
    }
}
