import DepotConfig
import DepotEngine
import DepotTiering

/// The dry run of a policy's version expiry (noncurrent versions, lone delete markers): which
/// versions the retention pass would remove now, judged by the same decision
/// (PolicyVersionExpiry.swift) and the same clock, and which of those Object Lock keeps.
extension AdminAPI {
    func versionDryRun(_ policy: PolicySettings, buckets: [String], limit: Int) throws -> [String: Any] {
        var due = 0
        var bytes: UInt64 = 0
        var locked = 0
        var sample: [[String: Any]] = []
        let now = RetentionClock.now()
        let lockNow = try engine.lockNow()
        for bucket in buckets where try engine.bucket(bucket) != nil {
            try policy.forEachDueVersion(engine: engine, bucket: bucket, now: now) { version in
                let record = version.record
                let lockedWhy = record.lock.deletionRefusal(bypassGovernance: false, now: lockNow)
                if lockedWhy != nil { locked += 1 } else { due += 1 }
                if !record.isDeleteMarker { bytes += record.size }
                if sample.count < limit {
                    var entry: [String: Any] = [
                        "bucket": bucket, "key": version.key, "versionId": record.versionId ?? "null",
                        "reason": version.reason.rawValue, "deleteMarker": record.isDeleteMarker, "size": record.size,
                        "created": record.created,
                    ]
                    if let lockedWhy { entry["keptByObjectLock"] = lockedWhy }
                    sample.append(entry)
                }
                return true
            }
        }
        return ["wouldRemove": due, "bytes": bytes, "keptByObjectLock": locked, "versions": sample]
    }
}
