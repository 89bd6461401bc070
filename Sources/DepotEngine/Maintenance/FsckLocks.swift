import DepotHashing
import DepotStorage

/// `fsck`'s proof of Object Lock (issue 16 #5): a lock is evidence only if the segment log carries
/// it. Every lock change is logged as the version's newest commit record, and the index record
/// points at that record (`commitLocation`, kept current by compaction), so an index lock is proven
/// when the commit record at that location names the same bucket, key and lock.
struct LockProof {
    /// The locks the log's commit records carry, by where each record lies. Only locked commits
    /// are kept: an index lock whose record is not here is one no log record carries.
    private var loggedLocks: [RecordLocation: (bucket: String, key: String, lock: ObjectLockFields)] = [:]
    /// Problems found, once each (a current version is in the objects and the versions table).
    private(set) var problems: Set<String> = []

    /// Called for every record of the segments.
    mutating func noteLogRecord(_ record: ScannedRecord) throws {
        guard record.header.kind == .objectCommit,
            case .objectCommit(let bucket, let key, let object)? = try LogPayload.decode(
                kind: record.header.kind, payload: record.payload),
            object.lock != ObjectLockFields()
        else { return }
        loggedLocks[record.location] = (bucket, key, object.lock)
    }

    /// Checks one index record: its lock must be the one its commit record carries, and a locked
    /// version stored locally must have every chunk (an entry pointing at an intact record).
    mutating func check(
        bucket: String, key: String, _ object: ObjectRecord, txn: borrowing Transaction, chunks: Table,
        intact: [RecordLocation: [UInt8]]
    ) throws {
        guard object.lock != ObjectLockFields() else { return }
        let name = "\(bucket)/\(key) version \(object.versionId ?? "null")"
        let lock = "mode \(object.lock.mode), retain-until \(object.lock.retainUntil), legal hold \(object.lock.legalHold)"
        if let logged = loggedLocks[object.commitLocation], logged.bucket == bucket, logged.key == key {
            if logged.lock != object.lock {
                problems.insert(
                    "object \(name): the index holds lock \(lock), its log record at \(object.commitLocation) "
                        + "holds mode \(logged.lock.mode), retain-until \(logged.lock.retainUntil), "
                        + "legal hold \(logged.lock.legalHold)")
            }
        } else {
            problems.insert(
                "object \(name): the index holds lock \(lock) that no log record carries "
                    + "(its commit record at \(object.commitLocation) does not)")
        }
        guard object.localState == .present else { return }
        for ref in object.manifest {
            let entry = try txn.get(chunks, ref.hash).map { try ChunkEntry.decode($0) }
            if let entry, intact[entry.location] == ref.hash { continue }
            problems.insert("object \(name) is locked but its chunk \(Hex.encode(ref.hash)) is missing")
        }
    }
}
