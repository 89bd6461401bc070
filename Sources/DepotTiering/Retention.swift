import DepotConfig
import DepotEngine
import Foundation
import Logging

/// Retention: deletes objects older than their policy's `expire.after`, locally, on the tiers,
/// or both, judged per object by its own age. An object with a replication still pending is
/// never expired (its copy would be lost), and a tier copy is deleted only once confirmed.
struct Retention: Sendable {
    let engine: Engine
    let policies: [PolicySettings]
    let tiers: [String: any TierClient]
    let logger: Logger

    /// Seconds added to the clock for retention decisions: `DEPOT_CLOCK_OFFSET_SECONDS`, which
    /// lets tests move time forward without sleeping. Zero in production.
    static let clockOffset: Int64 = {
        Int64(ProcessInfo.processInfo.environment["DEPOT_CLOCK_OFFSET_SECONDS"] ?? "") ?? 0
    }()

    static func now() -> Int64 { Engine.now() + clockOffset * 1000 }

    /// One pass over the objects that retention policies cover; returns how many it expired.
    @discardableResult
    func run() async -> Int {
        var expired = 0
        for policy in policies where policy.transitions {
            for bucket in buckets(of: policy) { await transition(bucket: bucket, policy: policy, now: Self.now()) }
        }
        for policy in policies where policy.expires {
            for bucket in buckets(of: policy) {
                expired += await expire(bucket: bucket, policy: policy, now: Self.now())
            }
        }
        for policy in policies where policy.expiresVersions {
            for bucket in buckets(of: policy) {
                expired += await expireVersions(bucket: bucket, policy: policy, now: Self.now())
            }
        }
        for policy in policies where policy.abortUploadsAfter != nil {
            for bucket in buckets(of: policy) { await abortUploads(bucket: bucket, policy: policy, now: Self.now()) }
        }
        return expired
    }

    /// Aborts the bucket's multipart uploads under the policy's prefix that began long enough ago
    /// (an S3 lifecycle rule's AbortIncompleteMultipartUpload).
    private func abortUploads(bucket: String, policy: PolicySettings, now: Int64) async {
        guard let uploads = try? engine.listUploads(bucket: bucket) else { return }
        for (id, upload) in uploads
        where upload.key.hasPrefix(policy.prefix) && policy.glob.map({ $0.matches(upload.key) }) ?? true
            && policy.abortsUpload(created: upload.created, now: now)
        {
            if Task.isCancelled { return }
            do {
                try await engine.abortUpload(uploadId: id)
                logger.info("retention: aborted the multipart upload \(id) of \(bucket)/\(upload.key) (policy \(policy.name))")
            } catch {
                logger.warning("retention: aborting the upload \(id) of \(bucket)/\(upload.key) failed: \(error)")
            }
        }
    }

    private func buckets(of policy: PolicySettings) -> [String] {
        if let bucket = policy.bucket, bucket != "*" { return [bucket] }
        return (try? engine.listBuckets().map(\.name)) ?? []
    }

    /// Evicts local copies that are due and confirmed on every target of the policy. A due object
    /// that a target has no copy of yet (written before the policy existed, or a policy that
    /// copies only when due, as S3 lifecycle Transitions do) gets its copy queued first; it is
    /// evicted when that copy is confirmed (TieringService) or by a later pass.
    private func transition(bucket: String, policy: PolicySettings, now: Int64) async {
        var after = ""
        while true {
            guard let page = try? engine.listObjects(bucket: bucket, prefix: policy.prefix, startAfter: after, maxKeys: 500)
            else { return }
            for (key, record) in page.objects
            where policy.transitionDue(created: record.created).map({ $0 < now }) ?? false && record.localState == .present {
                if Task.isCancelled { return }
                guard
                    policy.matches(bucket: bucket, key: key, record: record)
                else { continue }
                let missing = policy.replicateTo.filter { tier in !record.replicas.contains { $0.tier == tier } }
                if !missing.isEmpty {
                    do {
                        if try await engine.requestReplication(bucket: bucket, key: key, tiers: missing) {
                            logger.info("transition: \(bucket)/\(key) is due (policy \(policy.name)); copying it to \(missing)")
                        }
                    } catch {
                        logger.warning("transition: queuing the copy of \(bucket)/\(key) failed: \(error)")
                    }
                    continue
                }
                do {
                    if try await engine.evict(bucket: bucket, key: key, created: record.created, confirmedOn: policy.replicateTo)
                    {
                        logger.info("transition: evicted the local copy of \(bucket)/\(key)")
                    }
                } catch {
                    logger.warning("transition of \(bucket)/\(key) failed: \(error)")
                }
            }
            guard page.isTruncated, let last = page.lastReturned else { return }
            after = last
        }
    }

    private func expire(bucket: String, policy: PolicySettings, now: Int64) async -> Int {
        var expired = 0
        var after = ""
        while true {
            guard let page = try? engine.listObjects(bucket: bucket, prefix: policy.prefix, startAfter: after, maxKeys: 500)
            else { break }
            for (key, record) in page.objects where policy.expiry(created: record.created).map({ $0 < now }) ?? false {
                guard
                    policy.matches(bucket: bucket, key: key, record: record)
                else { continue }
                if record.replicas.contains(where: { $0.state == .pending }) {
                    logger.info("retention: keeping \(bucket)/\(key) past its age: a replication is still pending")
                    continue
                }
                if policy.expireWhere == .tiers && record.localState == .evicted
                    && !record.replicas.contains(where: { $0.state == .completed && !policy.replicateTo.contains($0.tier) })
                {
                    // A transition evicted the local copy: these tier copies are the object's only
                    // bytes, and deleting them would leave an object that can never be read.
                    logger.info("retention: keeping the tier copies of \(bucket)/\(key): its local copy was evicted")
                    continue
                }
                // Object Lock: a version under retention or a legal hold is never expired, here or on a tier.
                if let why = record.lock.deletionRefusal(
                    bypassGovernance: false, now: (try? engine.lockNow()) ?? Engine.now())
                {
                    logger.info("retention: keeping \(bucket)/\(key) past its age: \(why)")
                    continue
                }
                do {
                    if policy.expireWhere != .local {
                        for replica in record.replicas
                        where replica.state == .completed && policy.replicateTo.contains(replica.tier) {
                            try await tiers[replica.tier]?.delete(bucket: bucket, key: key)
                            // The version's own copy (`replicate.versions: all`) goes with it.
                            if policy.replicateVersions == .all, let versionId = VersionCopyKey.versionId(of: record) {
                                try await tiers[replica.tier]?.delete(
                                    bucket: bucket, key: VersionCopyKey.key(key, versionId: versionId))
                            }
                        }
                    }
                    if policy.expireWhere != .tiers {
                        let created = record.created
                        // Only this version: a newer upload under the same key is not expired.
                        try await engine.deleteObject(
                            bucket: bucket, key: key,
                            precondition: { current in
                                guard current?.created == created else { throw EngineError.preconditionFailed }
                            }, origin: .lifecycle("Expired"))
                    }
                    expired += 1
                } catch {
                    logger.warning("retention: expiring \(bucket)/\(key) failed: \(error)")
                }
            }
            guard page.isTruncated, let last = page.lastReturned else { break }
            after = last
        }
        return expired
    }
}
