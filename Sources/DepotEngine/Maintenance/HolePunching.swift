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
    func punchDeadRecords(progress: (String) -> Void) async throws -> UInt64? {
        guard !store.cannotPunchHoles.load(ordering: .relaxed) else { return nil }
        let active = store.activeSegmentId
        let chunkTable = chunks
        var dead: [(hash: [UInt8], location: RecordLocation)] = []
        for id in store.segmentIds where id < active && !reclaim.isRetired(id) {
            try Task.checkCancellation()
            let allocated = UInt64(store.allocatedBytes(of: id))
            // Worth a scan only when an eighth of what the file occupies is dead.
            guard allocated > (try liveBytes(of: id)) + max(64 << 10, allocated / 8) else { continue }
            _ = try SegmentScanner.scan(path: store.path(of: id), segment: id) { record in
                guard record.header.kind == .chunk, record.location.length >= 8192 else { return }
                let live = try environment.read { txn in
                    try txn.get(chunkTable, record.header.hash).map(ChunkEntry.decode)?.location == record.location
                }
                if !live { dead.append((record.header.hash, record.location)) }
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
                where try txn.get(chunkTable, hash).map(ChunkEntry.decode)?.location != location {
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
        if punched > 0 { progress("punched \(punched) bytes of dead records out of sealed segments") }
        return punched
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
