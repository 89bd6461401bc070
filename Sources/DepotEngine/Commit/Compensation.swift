import DepotStorage

/// What a log record changes: the index entry a rebuild would set from it.
enum LoggedTarget {
    case object(bucket: String, key: String)
    case bucket(String)

    init(_ payload: LogPayload) {
        switch payload {
        case .objectCommit(let bucket, let key, _), .objectDelete(let bucket, let key): self = .object(bucket: bucket, key: key)
        case .bucketCreate(let name, _), .bucketDelete(let name): self = .bucket(name)
        }
    }
}

extension Committer {
    /// A request that failed after appending its log record leaves that record in the segment
    /// (appends cannot be taken back), where rebuilding the index would replay it and bring the
    /// failed change back. A newer record saying what the index really holds for the same object
    /// or bucket supersedes it; for an object that exists, the index points at the new record so
    /// that compaction keeps it. If even that append fails (the disk is full), the stale record
    /// stays and the error is logged: the live index is right either way.
    func compensate(_ targets: [LoggedTarget], txn: borrowing Transaction, context: CommitContext) {
        for target in targets {
            do {
                switch target {
                case .object(let bucket, let key):
                    let objectKey = Tables.objectKey(bucket: bucket, key: key)
                    // A key LMDB refuses cannot be in the index.
                    let value = objectKey.count > Self.maxKeyLength ? nil : try txn.get(objects, objectKey)
                    if var record = try value.map({ v in try v.withUnsafeBytes { try ObjectRecord.decodeValue($0) } }) {
                        let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                        record.commitLocation = location
                        record.sequence = sequence
                        try txn.put(objects, objectKey, record.encodedValue())
                    } else {
                        _ = try context.log(.objectDelete(bucket: bucket, key: key))
                    }
                case .bucket(let name):
                    let nameKey = Array(name.utf8)
                    let value = nameKey.count > Self.maxKeyLength ? nil : try txn.get(buckets, nameKey)
                    if let record = try value.map({ try $0.decode { try BucketRecord.decode(&$0) } }) {
                        _ = try context.log(.bucketCreate(name: name, record: record))
                    } else {
                        _ = try context.log(.bucketDelete(name: name))
                    }
                }
            } catch {
                logger.error("a failed request's log record could not be superseded (\(target)): \(error)")
            }
        }
    }

    /// LMDB's default longest key.
    static let maxKeyLength = 511
}
