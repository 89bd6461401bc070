import DepotStorage

/// Engine failures, protocol-neutral: each front door maps them to its own dialect.
public enum EngineError: Error, Equatable, Sendable, CustomStringConvertible {
    case noSuchBucket(String)
    case noSuchKey(String)
    /// A well-formed version id that names no version of the key.
    case noSuchVersion(key: String, versionId: String)
    /// A copy names a delete marker as its source.
    case deleteMarkerSource(String)
    /// An operation that needs an object's bytes or metadata names a delete marker.
    case deleteMarkerTarget(String)
    case bucketAlreadyExists(String)
    case bucketAlreadyOwnedByYou(String)
    case bucketNotEmpty(String)
    case invalidBucketName(String)
    case keyTooLong(maximum: Int)
    case preconditionFailed
    case noSuchUpload(String)
    case invalidPart(String)
    case invalidPartOrder
    case entityTooSmall
    case invalidObjectState(String)
    /// The bucket's state forbids the change (Object Lock: suspending versioning; a lock
    /// configuration on a bucket whose versioning is not Enabled).
    case invalidBucketState(String)
    /// A delete or change an Object Lock retention or legal hold forbids (the detail says which).
    case objectLocked(String)
    /// A request that is well-formed but not valid here (S3 InvalidRequest).
    case invalidRequest(String)
    case noSpace
    /// The owner's `quota` would be exceeded (the detail says which and by how much).
    case quotaExceeded(String)
    /// The event outbox is at its bound and `events.outbox.whenFull` says to refuse new writes.
    case outboxFull
    case shuttingDown
    /// The chunk store (cluster mode's object store) cannot be reached for now: the write was
    /// not stored, and a retry may succeed (503 with Retry-After).
    case chunkStoreUnavailable(String)
    /// The shared index (cluster mode's PostgreSQL) cannot be reached, or other nodes' writes
    /// kept conflicting with this batch past its retries: nothing was stored, a retry may
    /// succeed (503 SlowDown with Retry-After).
    case indexUnavailable(String)
    case dataDirectoryInUse(String)
    case corrupt(String)
    case io(String)

    public var description: String {
        switch self {
        case .noSuchBucket(let b): return "The specified bucket does not exist: \(b)"
        case .noSuchKey(let k): return "The specified key does not exist: \(k)"
        case .noSuchVersion(let k, let v): return "The specified version \(v) of \(k) does not exist"
        case .deleteMarkerSource(let k): return "The copy source \(k) names a delete marker"
        case .deleteMarkerTarget(let k): return "The version of \(k) named is a delete marker"
        case .bucketAlreadyExists(let b): return "The bucket \(b) already exists and belongs to another account"
        case .bucketAlreadyOwnedByYou(let b): return "You already own the bucket \(b)"
        case .bucketNotEmpty(let b): return "The bucket \(b) is not empty"
        case .invalidBucketName(let b): return "The bucket name \(b) is not valid"
        case .keyTooLong(let max): return "Your key is too long: keys may be at most \(max) bytes"
        case .preconditionFailed: return "At least one of the preconditions you specified did not hold"
        case .noSuchUpload(let id): return "The specified upload does not exist: \(id)"
        case .invalidPart(let detail): return "One or more of the specified parts could not be found or did not match: \(detail)"
        case .invalidPartOrder: return "The list of parts was not in ascending order"
        case .entityTooSmall: return "Your proposed upload is smaller than the minimum allowed object size"
        case .invalidObjectState(let key): return "The object \(key) was moved to a tier; its bytes are not local"
        case .invalidBucketState(let detail): return detail
        case .objectLocked(let detail): return detail
        case .invalidRequest(let detail): return detail
        case .noSpace: return "The data directory's device is full"
        case .quotaExceeded(let detail): return "Quota exceeded: \(detail)"
        case .outboxFull: return "Event delivery is behind: the outbox is full; retry later"
        case .shuttingDown: return "The server is shutting down"
        case .chunkStoreUnavailable(let detail): return "The chunk store cannot be reached; retry later (\(detail))"
        case .indexUnavailable(let detail): return "The cluster index is unavailable; retry later (\(detail))"
        case .dataDirectoryInUse(let detail): return "The data directory is in use by another process: \(detail)"
        case .corrupt(let what): return "Stored data is corrupt: \(what)"
        case .io(let what): return "I/O error: \(what)"
        }
    }

    /// A shared index's failure (cluster mode: PostgreSQL unreachable, or a conflict past the
    /// retries) that reached a front door as it was, as reads outside a commit do: a retry may
    /// succeed, so 503, not 500. nil for anything else (LMDB's errors keep their own mapping).
    public static func indexFailure(_ error: Error) -> EngineError? {
        guard !(error is LMDBError), let failure = error as? any IndexTransactionFailure, failure.endsWholeTransaction
        else { return nil }
        return .indexUnavailable("\(failure)")
    }

    /// Maps storage and index failures to engine errors.
    static func wrap(_ error: Error) -> Error {
        switch error {
        case let e as EngineError: return e
        case let e as StorageError:
            switch e {
            case .noSpace: return EngineError.noSpace
            case .corrupt(let s): return EngineError.corrupt(s)
            case .io: return EngineError.io(e.description)
            }
        case let e as LMDBError where e.isNoSpace || e.isMapFull: return EngineError.noSpace
        case let e as LMDBError: return EngineError.io(e.description)
        case let e as any IndexTransactionFailure where e.endsWholeTransaction:
            return EngineError.indexUnavailable("\(e)")
        default: return error
        }
    }
}
