/// The background passes that change the shared index, each run by one node at a time in cluster
/// mode (README "Cluster mode"). Passes that touch only what is this node's own (local segments,
/// its read cache, its ingest figures, its heap) are not here: every node runs those.
public enum MaintenancePass: String, Sendable, CaseIterable {
    /// Retention and S3 lifecycle rules: transitions, expiry of objects and of noncurrent
    /// versions, aborting old multipart uploads, and the storage-class sweep (TieringService).
    case lifecycle
    /// Expiring abandoned multipart and tus uploads (`storage.uploadExpiry`, MaintenanceService).
    case abandonedUploads
    /// Pack compaction (cluster mode: repacking the shared store's packs, PackCompaction.swift);
    /// embedded mode's segment compaction is the only node's.
    case compaction
}

/// Decides whether this node runs a maintenance pass this round: the one place that decision is
/// made. Embedded mode has one node (`SoleNodeLeadership`, always yes); cluster mode holds a
/// PostgreSQL advisory lock per pass (DepotCluster `AdvisoryLockLeadership`), so while one node
/// lives the others skip the pass, and when it dies its session ends, the lock frees and the
/// next node to try takes the pass over.
public protocol MaintenanceLeadership: Sendable {
    /// Whether to run `pass` now; false: another node runs it, skip this round. Bounded: never
    /// waits for the other node, and answers false when the decision cannot be made (database
    /// unreachable), since running a pass twice is worse than running it late.
    func mayRun(_ pass: MaintenancePass) async -> Bool
}

/// Embedded mode: the only node runs every pass.
public struct SoleNodeLeadership: MaintenanceLeadership {
    public init() {}
    public func mayRun(_ pass: MaintenancePass) async -> Bool { true }
}
