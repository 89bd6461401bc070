import DepotStorage
import Synchronization

extension Engine {
    /// Gives back the space of dead chunk records in sealed segments without copying anything
    /// (SegmentHoles.swift), so compaction frees space even on a full device. Returns the bytes
    /// punched; nil when the filesystem cannot punch holes (copying compaction then does the work).
    ///
    /// A record dead now may still be read by a GET or referenced by an upload that began
    /// earlier. So: wait until every older lease has ended; then, in commit order, keep the
    /// records still dead and mark them so that no commit references them again (an upload that
    /// deduplicated against one fails instead, see `addReferences`); wait once more for the
    /// reads that began before that mark; only then punch. Waits are bounded: a pass that
    /// cannot wait leaves the work to the next one.
    func punchDeadRecords(
        progress: (String) -> Void, advance: (WorkProgress) -> Void = { _ in }
    ) async throws -> UInt64? {
        guard !store.cannotPunchHoles.load(ordering: .relaxed) else { return nil }
        let active = store.activeSegmentId
        let chunkTable = chunks
        var dead: [(hash: [UInt8], location: RecordLocation)] = []
        /// What each scanned segment looked like (remembered once its dead records are dealt with).
        var scanned: [UInt32: PunchScanMemory.Figures] = [:]
        let sealed = store.segmentIds.filter { $0 < active && !reclaim.isRetired($0) }
        punchScans.keepOnly(sealed)
        // Progress over the sealed segments' allocated bytes, each counted once it is looked at.
        var meter = WorkProgress(
            phase: "finding dead records", count: 0, unit: "segments",
            totalBytes: sealed.reduce(UInt64(0)) { $0 + UInt64(store.allocatedBytes(of: $1)) })
        for id in sealed {
            try Task.checkCancellation()
            let allocated = UInt64(store.allocatedBytes(of: id))
            defer {
                meter.count += 1
                meter.bytes += allocated
                advance(meter)
            }
            let live = try liveBytes(of: id)
            // Worth a scan only when an eighth of what the file occupies is dead.
            guard allocated > live + max(64 << 10, allocated / 8) else { continue }
            // Dead bytes that cannot be punched (small records, log records, block edges) keep
            // a segment above that mark: it is walked again only once something in it changed.
            let figures = PunchScanMemory.Figures(allocated: allocated, live: live)
            guard punchScans.figures(of: id) != figures else { continue }
            // Headers only: reading and CRC-checking every payload, every pass, made this the
            // server's hottest code under deletes (perf: 43% of the CPU). Finding the dead records
            // in 199 MiB of segments (1 MiB chunks, a quarter dead; debug build) took 0.07-0.10 s
            // with the full scan from the page cache and 0.16-0.68 s from the device; the header
            // walk takes 0.0007 s and 0.016-0.044 s, and an unchanged segment is not walked again.
            var walked: [WalkedRecord] = []
            try SegmentScanner.headers(path: store.path(of: id), segment: id) { record in
                try Task.checkCancellation()
                if record.header.kind == .chunk { walked.append(record) }
            }
            let (segmentDead, complete) = try deadRecords(in: id, walked: walked)
            if !complete {
                progress(
                    "segment \(id): its record headers do not account for all its live bytes, so none of its dead records is punched"
                )
            }
            if segmentDead.isEmpty {
                punchScans.remember(figures, of: id)
            } else {
                dead += segmentDead
                scanned[id] = figures
            }
        }
        guard !dead.isEmpty, try await leasesEnd(progress: progress) else { return 0 }
        // In commit order: keep what is still dead, and from now on refuse to bring it back.
        let (candidates, segmentStore) = (dead, store)
        let doomed: [RecordLocation]
        do {
            doomed = try await committer.submit { txn, _ in
                var doomed: [RecordLocation] = []
                for (hash, location) in candidates
                where Self.mayPunch(location, liveAt: try txn.get(chunkTable, hash).map(ChunkEntry.decode)?.location) {
                    doomed.append(location)
                }
                segmentStore.markDiscarding(doomed)
                return doomed
            }
        } catch {
            // The batch did not commit, so what it saw dead (a delete in the same batch) may
            // still be live: nothing chosen there may be punched.
            segmentStore.unmarkDiscarding(candidates.map(\.location))
            throw error
        }
        // A read that found one of them live began before that commit; it must end first.
        guard try await leasesEnd(progress: progress) else { return 0 }
        var punched: UInt64 = 0
        for location in doomed {
            guard let bytes = try store.discardPayload(location) else {
                progress("the filesystem cannot punch holes; compaction copies live records instead")
                return punched > 0 ? punched : nil
            }
            punched += UInt64(bytes)
        }
        // Remembered with what the files occupy now: unchanged from here on means nothing new died.
        for (id, figures) in scanned {
            punchScans.remember(.init(allocated: UInt64(store.allocatedBytes(of: id)), live: figures.live), of: id)
        }
        if punched > 0 { progress("punched \(punched) bytes of dead records out of sealed segments") }
        return punched
    }

    /// The dead chunk records among those a header walk found, read from one index snapshot.
    /// A header is unverified and a wrong length would hide the records it spans, so unless the
    /// live records found add up to exactly the segment's live bytes, nothing in it is chosen
    /// (`complete` is then false).
    private func deadRecords(
        in id: UInt32, walked: [WalkedRecord]
    ) throws -> (dead: [(hash: [UInt8], location: RecordLocation)], complete: Bool) {
        let (chunkTable, segmentTable) = (chunks, segments)
        return try indexStore.read { txn in
            let live = try txn.get(segmentTable, Tables.segmentKey(id)).map { try $0.decode { try $0.u64() } } ?? 0
            var liveFound: UInt64 = 0
            var dead: [(hash: [UInt8], location: RecordLocation)] = []
            for record in walked {
                let liveAt = try txn.get(chunkTable, record.header.hash).map(ChunkEntry.decode)?.location
                if liveAt == record.location {
                    liveFound += UInt64(RecordHeader.size) + UInt64(record.location.length)
                } else if record.location.length >= 8192, Self.mayPunch(record.location, liveAt: liveAt) {
                    dead.append((record.header.hash, record.location))
                }
            }
            return liveFound == live ? (dead, true) : ([], false)
        }
    }

    /// Whether a chunk record found by its header may be punched, given where the index keeps
    /// that hash's live copy: not when it is that copy, and not when its range overlaps it (a
    /// header is unverified; a wrong length must never reach into live bytes).
    static func mayPunch(_ location: RecordLocation, liveAt live: RecordLocation?) -> Bool {
        guard let live else { return true }
        guard live != location else { return false }
        guard live.segment == location.segment else { return true }
        let end = location.payloadOffset + UInt64(location.length)
        let liveEnd = live.payloadOffset + UInt64(live.length)
        return end <= live.offset || liveEnd <= location.offset
    }

    /// Closes the epoch and waits (bounded) until every upload and read that began before has
    /// ended; false when they take longer (the pass then leaves the work to the next one).
    private func leasesEnd(progress: (String) -> Void) async throws -> Bool {
        let epoch = reclaim.closeEpoch()
        let deadline = ContinuousClock.now + .seconds(30)
        while !reclaim.leasesEnded(upTo: epoch) {
            guard ContinuousClock.now < deadline else {
                progress("hole punching waits for uploads and reads that began before it; next pass")
                return false
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        return true
    }
}

/// Per sealed segment, what it occupied and how much of it was live when hole punching last
/// dealt with it; a segment whose figures are unchanged has no new dead records to find.
final class PunchScanMemory: Sendable {
    struct Figures: Sendable, Equatable {
        var allocated: UInt64
        var live: UInt64
    }

    private let figuresById = Mutex<[UInt32: Figures]>([:])

    func figures(of id: UInt32) -> Figures? { figuresById.withLock { $0[id] } }
    func remember(_ figures: Figures, of id: UInt32) { figuresById.withLock { $0[id] = figures } }
    /// Forgets segments that were compacted away or became active again.
    func keepOnly(_ ids: [UInt32]) {
        let keep = Set(ids)
        figuresById.withLock { $0 = $0.filter { keep.contains($0.key) } }
    }
}
