/// Exclusive locks on uploads by id, for front doors whose requests must not interleave on one
/// upload: a tus PATCH reads the upload's offset, appends a part after it and answers the new
/// offset, so a second PATCH (or a DELETE) of the same upload running meanwhile would append at
/// the same offset (VaultTus.swift answers it 423 Locked instead).
///
/// In embedded mode one process serves an upload, and an in-memory set is the lock. In cluster
/// mode any node serves any upload, so the lock must be the cluster's: `AdvisoryUploadLocks`
/// (DepotCluster) holds a PostgreSQL advisory lock per upload on the node's own session, freed
/// by PostgreSQL when that node dies.
public protocol UploadLocks: Sendable {
    /// Takes the lock of upload `id` without waiting; false when another request holds it (on
    /// this node or, in cluster mode, another). Throws when it cannot be decided (the cluster
    /// index is unreachable: `EngineError.indexUnavailable`).
    func tryLock(_ id: String) async throws -> Bool

    /// Whether the lock taken by `tryLock` is still this request's, asked before what the
    /// request received becomes part of the upload: a cluster lock lives only as long as the
    /// node's database session, and another node may hold it once that session ended.
    func stillHeld(_ id: String) async -> Bool

    /// Gives the lock back (the request has answered).
    func unlock(_ id: String) async
}
