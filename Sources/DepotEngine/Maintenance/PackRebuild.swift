import DepotStorage
import Glibc

extension Engine {
    /// Ranged GETs a pack is fetched in for a rebuild scan: the memory one pack costs.
    static let rebuildFetchBytes = 4 << 20

    /// Cluster mode's `depot fsck --rebuild-index`: rebuilds the shared index from the pack
    /// objects alone, as the embedded rebuild does from the segments (the same `LogReplay`, so
    /// the same newest-per-key rule and table fates). Every pack of every writer is listed and
    /// scanned past damage; records keep their pack locations, which is where the rebuilt index
    /// points. A pack is fetched in ranged GETs into a temporary file and scanned from there, so
    /// memory holds one fetch window, not a pack or the store.
    ///
    /// `index` must hold no buckets, objects, versions or chunks (a freshly initialised
    /// database): rebuilding over a live index would mix two histories.
    public static func rebuildIndex(
        fromPacks packs: any PackMaintenanceStore, into index: any IndexStore, progress: (String) -> Void = { _ in },
        advance: (WorkProgress) -> Void = { _ in }
    ) throws -> RebuildReport {
        let filled = try index.read { txn in
            try [IndexTable.buckets, .objects, .versions, .chunks].first { try txn.count(index.table($0)) > 0 }
        }
        if let filled {
            throw EngineError.invalidRequest(
                "the index's \(filled.rawValue) table is not empty: rebuild into a freshly initialised database (depot cluster init)"
            )
        }
        var report = RebuildReport()
        var replay = LogReplay()
        let stored = try packs.listPacks().sorted { $0.unit < $1.unit }
        var meter = WorkProgress(
            phase: "replaying packs", count: 0, unit: "records", totalBytes: stored.reduce(0) { $0 + UInt64($1.size) })
        for (n, pack) in stored.enumerated() {
            try Task.checkCancellation()
            report.segments += 1
            let path = try fetchToScratch(pack, from: packs)
            defer { unlink(path) }
            let summary = try SegmentScanner.scan(path: path, segment: pack.unit.sequence, pastDamage: true) { scanned in
                report.records += 1
                meter.count = report.records
                advance(meter)
                try replay.take(
                    scanned.moved(to: pack.unit.location(offset: Int(scanned.location.offset), length: scanned.location.length)))
            }
            report.problems += summary.damage.map { "pack \(pack.unit): \($0); its records were not replayed" }
            progress("pack \(n + 1)/\(stored.count) \(pack.unit): \(summary.records) records")
            meter.bytes += UInt64(pack.size)
            advance(meter)
        }
        try replay.write(into: index, report: &report)
        report.nextSequence = replay.maxSequence + 1
        return report
    }

    /// Copies a pack into a temporary file (SegmentScanner reads files) in ranged GETs of
    /// `rebuildFetchBytes`; the caller removes the file.
    private static func fetchToScratch(_ pack: StoredPack, from packs: any PackMaintenanceStore) throws -> String {
        var template = Array("/tmp/depot-rebuild-XXXXXX".utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else { throw EngineError.io("mkstemp for a pack scan: \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        var offset = 0
        do {
            while offset < pack.size {
                let bytes = try packs.readStored(pack.unit, offset..<min(pack.size, offset + rebuildFetchBytes))
                guard !bytes.isEmpty else { break }  // shorter than listed: the scan sees its end
                var written = 0
                while written < bytes.count {
                    let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
                    guard n > 0 else { throw EngineError.io("write \(path): \(String(cString: strerror(errno)))") }
                    written += n
                }
                offset += bytes.count
            }
        } catch {
            unlink(path)
            throw error
        }
        return path
    }
}
