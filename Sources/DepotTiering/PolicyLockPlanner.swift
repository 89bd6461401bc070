import DepotConfig
import DepotEngine

/// A policy's `lock: { mode, days | years }`: each new version it matches gets that retention at
/// its commit, unless its own request named one (S3 headers, a Vault account's `vault.retention`);
/// the bucket's default applies only when neither does. The first matching policy with a `lock`,
/// in configuration order, decides. Buckets are made at runtime, so a policy may match a bucket
/// without Object Lock: there its lock is skipped (the engine applies locks only where the
/// bucket has Object Lock), and a policy naming such a bucket is warned about when installed.
extension TieringService {
    func installLockPlanner(_ policies: [PolicySettings]) {
        let locking = policies.filter { $0.lock != nil }
        for policy in locking {
            guard let name = policy.bucket, name != "*", let bucket = try? engine.bucket(name) else { continue }
            if bucket.objectLock == nil {
                logger.warning(
                    "policy \(policy.name): lock is skipped: bucket \(name) has no Object Lock, so its versions are not locked")
            }
        }
        guard !locking.isEmpty else {
            engine.setLockPlanner(nil)
            return
        }
        engine.setLockPlanner { bucket, key, record in
            guard let policy = locking.first(where: { $0.matches(bucket: bucket, key: key, record: record) }),
                let lock = policy.lock, let mode = ObjectLockMode(name: lock.mode)
            else { return nil }
            return (mode, lock.retainUntil(now: record.created))
        }
    }
}
