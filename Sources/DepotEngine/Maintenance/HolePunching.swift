import DepotStorage

extension Engine {
    /// Gives back the space of dead chunk records in sealed segments without copying anything
    /// (SegmentHoles.swift), so compaction frees space even on a full device. Returns the bytes
    /// punched; nil when the filesystem cannot punch holes (copying compaction then does the work).
    ///
    /// A record dead now may still be read by a GET or referenced by an upload that began
    /// earlier, so the epoch is closed and the punching waits until every older lease has ended
    /// (bounded; a pass that cannot wait leaves the work to the next one), then checks each
    /// record again. Later uploads deduplicate only against live chunks, so they cannot revive one.
    func punchDeadRecords(progress: (String) -> Void) async throws -> UInt64? {
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
        guard !dead.isEmpty else { return 0 }
        let epoch = reclaim.closeEpoch()
        let deadline = ContinuousClock.now + .seconds(30)
        while !reclaim.leasesEnded(upTo: epoch) {
            guard ContinuousClock.now < deadline else {
                progress("hole punching waits for uploads and reads that began before it; next pass")
                return 0
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        var punched: UInt64 = 0
        for (hash, location) in dead {
            let live = try environment.read { txn in
                try txn.get(chunkTable, hash).map(ChunkEntry.decode)?.location == location
            }
            guard !live else { continue }
            guard let bytes = try store.discardPayload(location) else {
                progress("the filesystem cannot punch holes; compaction copies live records instead")
                return punched > 0 ? punched : nil
            }
            punched += UInt64(bytes)
        }
        if punched > 0 { progress("punched \(punched) bytes of dead records out of sealed segments") }
        return punched
    }
}
