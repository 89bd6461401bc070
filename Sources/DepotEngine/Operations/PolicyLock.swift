import Synchronization

/// Decides, inside a new version's commit, the retention a policy gives it (`lock:` on a
/// policy): the mode and retain-until time (ms since the epoch), or nil when no policy does. Runs
/// on the committer thread, so it must be fast and must not block.
public typealias LockPlanner =
    @Sendable (_ bucket: String, _ key: String, _ record: ObjectRecord) -> (
        mode: ObjectLockMode, retainUntil: Int64
    )?

final class LockPlannerBox: Sendable {
    let planner = Mutex<FunctionBox<LockPlanner>?>(nil)
}

extension Engine {
    /// Installs (or replaces, on a configuration reload or a policy change) the policies' lock planner.
    public func setLockPlanner(_ planner: LockPlanner?) {
        lockPlannerBox.planner.withLock { $0 = planner.map(FunctionBox.init) }
    }

    /// The retention the policies give `record`, or nil.
    func policyLock(bucket: String, key: String, record: ObjectRecord) -> (mode: ObjectLockMode, retainUntil: Int64)? {
        lockPlannerBox.planner.withLock({ $0 })?.function(bucket, key, record)
    }
}
