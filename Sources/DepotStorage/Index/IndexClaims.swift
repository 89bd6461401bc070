/// The claim seam (issue 21): how nodes that share one index split work queued in it (tier tasks,
/// event outbox rows) so each entry is run by one node at a time.
///
/// A claim is a lease: the claiming node may work on the entry until the lease ends, renews it
/// while the work runs (a long copy), and removes the entry when done (the tier task's commit
/// deletes its row). A node that dies stops renewing; once its lease has ended another node
/// claims the entry and runs it again, so work is done once in normal operation and at least
/// once when a node dies mid-way.
///
/// Only an index shared between nodes implements it (cluster mode's PostgreSQL index). An index
/// written by one process (LMDB, memory) has nobody to split work with: the engine then reads the
/// queue as it always did, with nothing claimed (`Engine.claims` is nil).
public protocol IndexClaims: AnyObject, Sendable {
    /// Who claims: this node's name, shown by `depot cluster status` beside its claims.
    var claimant: String { get }

    /// How long a claim holds without renewal.
    var leaseSeconds: Double { get }

    /// Claims up to `limit` entries of `table` whose key is at most `through` (nil: any key), in
    /// key order, leaving out those another claim holds (or that another node is claiming at this
    /// moment: it never waits for them). With `accept`, only entries it accepts are claimed and at
    /// most `scanLimit` unclaimed entries are looked at (tier tasks skip tiers that cannot take
    /// work now, so one tier's backlog cannot hide another's). Returns what it claimed, in key order.
    func claim(
        _ table: Table, through: [UInt8]?, limit: Int, scanLimit: Int,
        accept: ((_ key: [UInt8], _ value: [UInt8]) throws -> Bool)?
    ) throws -> [ClaimedEntry]

    /// Extends this claimant's leases on `keys`; returns the keys it still held (an entry that is
    /// gone, or whose lease ended and another node took, is not renewed).
    func renew(_ table: Table, keys: [[UInt8]]) throws -> Set<[UInt8]>

    /// Gives up this claimant's claims on `keys`: the entries stay, claimable at once.
    func release(_ table: Table, keys: [[UInt8]]) throws

    /// Removes the entries `keys` (work done); returns how many were still there.
    @discardableResult
    func remove(_ table: Table, keys: [[UInt8]]) throws -> Int
}

/// One entry a claim took.
public struct ClaimedEntry: Sendable, Equatable {
    public let key: [UInt8]
    public let value: [UInt8]

    public init(key: [UInt8], value: [UInt8]) {
        self.key = key
        self.value = value
    }
}

extension IndexStore {
    /// The store's claims when it is shared between nodes; nil for a store one process writes.
    public var claims: (any IndexClaims)? { isSharedBetweenNodes ? self as? any IndexClaims : nil }
}
