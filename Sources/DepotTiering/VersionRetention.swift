import DepotConfig
import DepotEngine

/// Retention of versions in versioned buckets: noncurrent versions past their policy's
/// `expire.noncurrentAfter` and lone delete markers (`expire.expiredDeleteMarkers`), as
/// PolicyVersionExpiry.swift decides. Each goes through the engine's delete by version id, so
/// chunk references, quotas, log records, events and Object Lock apply as for a client's
/// DELETE ?versionId: a locked version is kept (and logged), never forced.
extension Retention {
    /// Due versions gathered in one walk before deleting them: a bound on the pass's memory;
    /// the rest wait for the next pass.
    static let versionBatchLimit = 10_000

    func expireVersions(bucket: String, policy: PolicySettings, now: Int64) async -> Int {
        var due: [PolicySettings.DueVersion] = []
        do {
            try policy.forEachDueVersion(engine: engine, bucket: bucket, now: now) { version in
                due.append(version)
                return due.count < Self.versionBatchLimit
            }
        } catch {
            logger.warning("retention: listing the versions of \(bucket) failed: \(error)")
        }
        var expired = 0
        let lockNow = (try? engine.lockNow()) ?? Engine.now()
        for version in due {
            if Task.isCancelled { break }
            let record = version.record
            let versionId = record.versionId ?? "null"
            if let why = record.lock.deletionRefusal(bypassGovernance: false, now: lockNow) {
                logger.info("retention: keeping version \(versionId) of \(bucket)/\(version.key) past its age: \(why)")
                continue
            }
            guard let selector = VersionSelector(versionId) else { continue }
            do {
                _ = try await engine.deleteObjectVersion(
                    bucket: bucket, key: version.key, selector, origin: .lifecycle("Expired"))
                expired += 1
                logger.info(
                    "retention: removed \(version.reason == .noncurrent ? "noncurrent version" : "expired delete marker") \(versionId) of \(bucket)/\(version.key) (policy \(policy.name))"
                )
            } catch {
                logger.warning("retention: removing version \(versionId) of \(bucket)/\(version.key) failed: \(error)")
            }
        }
        return expired
    }
}

/// The retention clock (with `DEPOT_CLOCK_OFFSET_SECONDS`), for the admin API's dry run to
/// judge versions as the retention pass will.
public enum RetentionClock {
    public static func now() -> Int64 { Retention.now() }
}
