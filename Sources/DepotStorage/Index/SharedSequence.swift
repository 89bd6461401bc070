/// Where the commit sequence comes from when several nodes commit to one index (cluster mode).
///
/// Embedded mode keeps the next free number in memory and in the index's `meta` row, written by
/// each batch that logs: one writer, so the numbers are committed in increasing order. Several
/// nodes writing that one row made every pair of concurrent batches conflict (a serialization
/// failure, a re-run, and after eight of them 503 SlowDown). A shared index hands out blocks of
/// numbers instead, from a source that no transaction waits on (PostgreSQL's `nextval`): no two
/// nodes get the same number, numbers are never reused (a block not used up is skipped), and
/// each node's numbers increase, but two nodes' batches may commit in either order.
public protocol SharedSequenceSource: AnyObject {
    /// A block of numbers no other caller, on any node, ever gets. Called inside a write
    /// transaction after its snapshot is taken (README "Cluster mode": why that keeps the newest
    /// record of each key the one with the highest number).
    func reserveSequenceBlock() throws -> Range<UInt64>
}

extension Transaction {
    /// The shared sequence of the store this write transaction belongs to; nil where the caller
    /// keeps the sequence itself (LMDB, `MemoryIndexStore`).
    public var sharedSequence: (any SharedSequenceSource)? {
        switch backend {
        case .lmdb: return nil
        case .other(let backend): return backend as? any SharedSequenceSource
        }
    }
}
