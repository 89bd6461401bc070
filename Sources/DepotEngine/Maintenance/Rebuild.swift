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
    /// The first sequence number the rebuilt index hands out (above every record's).
    public var nextSequence: UInt64 = 0
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
                "the log is in the pack objects (cluster.chunks): the index is rebuilt from them in cluster mode (cluster.index set), into a fresh database"
            )
        }
        PrivateFiles.makeDirectory(configuration.dataDirectory)
        let lock: Int32
        do {
            lock = try DataDirectoryLock.acquire(configuration.dataDirectory)
        } catch EngineError.dataDirectoryInUse(let detail) {
            throw EngineError.dataDirectoryInUse("stop the server before rebuilding the index (\(detail))")
        }
        defer { close(lock) }

        var replay = LogReplay()
        let ids = SegmentStore.listSegmentIds(configuration.segmentDirectory)
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
                try replay.take(record)
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
        do {
            let environment = try LMDBEnvironment(path: target, tables: Tables.all)
            try replay.write(into: environment, report: &report)
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
