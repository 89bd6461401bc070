import DepotStorage
import Synchronization

/// What one compaction pass did.
public struct CompactionReport: Sendable {
    public var segmentsCompacted = 0
    public var bytesCopied: UInt64 = 0
    public var bytesReclaimed: UInt64 = 0
    /// Bytes of dead records given back by punching holes (no copying).
    public var bytesPunched: UInt64 = 0
    /// Segments left in place because not everything live in them could be copied (damaged
    /// records), each naming the segment and the offset; `depot fsck` names the objects.
    public var problems: [String] = []
}

extension Engine {
    /// Live bytes recorded for a segment (chunk records still referenced by the index).
    func liveBytes(of segment: UInt32) throws -> UInt64 {
        let table = segments
        return try indexStore.read { txn in
            try txn.get(table, Tables.segmentKey(segment)).map { try $0.decode { try $0.u64() } } ?? 0
        }
    }

    /// Copies the live records out of sealed segments whose live ratio is below `threshold`, then
    /// retires those segments; their files are deleted once no upload or read still uses them.
    /// The emptiest segments go first: they free the most for the least copying, and a segment
    /// with nothing live needs no free space at all, so a full device recovers with them.
    public func compact(
        threshold: Double = 0.5, progress: (String) -> Void = { _ in }, advance: (WorkProgress) -> Void = { _ in }
    ) async throws -> CompactionReport {
        var report = CompactionReport()
        if let packs = dataPathStore.packs {
            // Cluster mode: the chunks are in pack objects (PackCompaction.swift).
            guard compactionRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
                return report
            }
            defer { compactionRunning.store(false, ordering: .releasing) }
            var settings = PackCompactionSettings()
            settings.threshold = threshold
            return try await compactPacks(packs, settings: settings, progress: progress)
        }
        guard segmentMaintenanceApplies("compaction and hole punching") else { return report }
        guard compactionRunning.compareExchange(expected: false, desired: true, ordering: .acquiring).exchanged else {
            return report  // another pass is running; it does the same work
        }
        defer { compactionRunning.store(false, ordering: .releasing) }
        report.bytesPunched = try await punchDeadRecords(progress: progress, advance: advance) ?? 0
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
        // Progress in segment bytes gone through: each candidate's size once it is done.
        var meter = WorkProgress(
            phase: "compacting segments", count: 0, unit: "segments",
            totalBytes: candidates.reduce(UInt64(0)) { $0 + UInt64($1.size) })
        advance(meter)
        for (id, size, live) in candidates {
            try Task.checkCancellation()
            defer {
                meter.count += 1
                meter.bytes += UInt64(size)
                advance(meter)
            }
            // Copying live records needs room for them (the reserve may be used); a segment
            // that does not fit now waits for a later pass instead of filling the device.
            if live > 0, let space = store.deviceSpace(), space.free < live + live / 8 + (1 << 20) {
                progress("segment \(id): \(live) live bytes do not fit in \(space.free) free; skipped")
                continue
            }
            let outcome = try await compactSegment(id)
            report.bytesCopied += outcome.copied
            if let reason = outcome.kept {
                if outcome.damaged { report.problems.append(reason) }
                progress(reason)
                continue
            }
            report.segmentsCompacted += 1
            report.bytesReclaimed += UInt64(size) - min(UInt64(size), outcome.copied)
            progress("segment \(id): \(size) bytes, \(live) live, \(outcome.copied) copied")
        }
        return report
    }

    /// What compacting one segment did: the bytes it copied, and why the segment had to stay
    /// (nil when it was retired).
    private struct SegmentOutcome {
        var copied: UInt64 = 0
        var kept: String?
        /// Kept because something live in it could not be copied (not merely because it
        /// changed while it was copied): a problem to report.
        var damaged = false
    }

    /// Copies a segment's live records to the active segment and retires it, but only when
    /// everything live in it was copied: a scan that stops at a damaged record (bit rot, a bad
    /// sector) must not cost the live records after it. So the scan goes past damage; the live
    /// chunk records it finds intact are copied and the index pointed at the copies either way,
    /// while a segment with damage, or with fewer live chunk bytes found than the index counts
    /// in it, stays where it is with its log records, and the reason is returned.
    private func compactSegment(_ id: UInt32) async throws -> SegmentOutcome {
        var outcome = SegmentOutcome()
        var chunkMoves: [ChunkMove] = []
        var keptLog: [(header: RecordHeader, location: RecordLocation)] = []
        var liveFound: UInt64 = 0
        let summary = try SegmentScanner.scan(path: store.path(of: id), segment: id, pastDamage: true) { record in
            try Task.checkCancellation()
            guard try compactionKeeps(record) else { return }
            guard record.header.kind == .chunk else {
                // Copied once the segment is known to go: a kept segment keeps them, and copies
                // made on every pass over it would pile up as duplicates.
                keptLog.append((record.header, record.location))
                return
            }
            let (move, bytes) = try copyChunk(record)
            outcome.copied += bytes
            liveFound += bytes
            chunkMoves.append(move)
        }
        if let damage = summary.damage.first {
            let more = summary.damage.count > 1 ? " (and \(summary.damage.count - 1) more damaged stretches)" : ""
            outcome.kept =
                "segment \(id) kept, not compacted: \(damage)\(more); its intact live chunk records were copied out, "
                + "the rest stays; `depot fsck` names the objects affected"
            outcome.damaged = true
        } else if case let live = try liveBytes(of: id), live > liveFound {
            let stop =
                summary.trailingBytes > 0
                ? "; the scan stopped at offset \(summary.validEnd), \(summary.trailingBytes) bytes before the end" : ""
            outcome.kept =
                "segment \(id) kept, not compacted: the index counts \(live) live chunk bytes in it, "
                + "\(liveFound) were found intact\(stop); `depot fsck` names the objects affected"
            outcome.damaged = true
        } else if summary.trailingBytes > 0,
            case let names = try commitRecordsIndexed(in: id, from: summary.validEnd), let first = names.first
        {
            let more = names.count > 1 ? " and \(names.count - 1) more" : ""
            outcome.kept =
                "segment \(id) kept, not compacted: the scan stopped at offset \(summary.validEnd), "
                + "\(summary.trailingBytes) bytes before the end, where the index places the commit record of \(first)\(more); "
                + "`depot fsck` names the objects affected"
            outcome.damaged = true
        }
        var commitMoves: [CommitMove] = []
        if outcome.kept == nil {
            for (header, location) in keptLog {
                let (to, move) = try copyLogRecord(header, at: location)
                outcome.copied += UInt64(RecordHeader.size) + UInt64(location.length)
                if let move { commitMoves.append(move) }
            }
        }
        let (moves, commits, gate, segmentTable, retiring) = (chunkMoves, commitMoves, reclaim, segments, outcome.kept == nil)
        let moveCommit = compactionMoveCommit
        let stillLive: UInt64? = try await committer.submit { txn, context in
            try moveCommit.apply(moves, commits, leaving: LiveUnit(segment: id), txn: txn, context: context)
            guard retiring else { return nil }
            // In commit order: a commit since the scan may have brought a dead record back.
            let stored = try txn.get(segmentTable, Tables.segmentKey(id)).map { try $0.decode { try $0.u64() } } ?? 0
            let remaining = Int64(stored) + context.liveDelta[LiveUnit(segment: id), default: 0]
            guard remaining <= 0 else { return UInt64(remaining) }
            try txn.delete(segmentTable, Tables.segmentKey(id))
            context.liveDelta[LiveUnit(segment: id)] = nil
            gate.retire(id)
            return nil
        }
        if let stillLive {
            outcome.kept =
                "segment \(id) kept, not compacted: \(stillLive) live bytes in it changed while it was copied; next pass"
        }
        reclaim.collect().forEach(store.remove)
        return outcome
    }

    /// Appends a kept log record again, re-read and checked against the CRC the scan verified;
    /// returns where it landed and, for an object commit, what the index must be told.
    private func copyLogRecord(
        _ header: RecordHeader, at location: RecordLocation
    ) throws -> (RecordLocation, CommitMove?) {
        let payload = try store.readPayload(location)
        let again = payload.withUnsafeBytes {
            RecordHeader.encode(kind: header.kind, sequence: header.sequence, hash: header.hash, payload: $0)
        }
        guard again.withUnsafeBytes({ RecordHeader.decode($0)?.crc }) == header.crc else {
            throw EngineError.io("segment record \(location) changed while it was compacted (CRC no longer checks)")
        }
        let to = try payload.withUnsafeBytes {
            try store.append(kind: header.kind, sequence: header.sequence, hash: header.hash, payload: $0)
        }
        return (to, try CommitMove(copied: header, payload: payload, to: to))
    }
}
