import DepotStorage

/// What a log record changes: the index entry a rebuild would set from it.
enum LoggedTarget: Hashable, Sendable {
    case object(bucket: String, key: String)
    case bucket(String)
    /// One version of a versioned bucket's key (its order).
    case version(bucket: String, key: String, order: UInt64)
    /// A master key's wrapped data key.
    case encryptionDomain(String)
    /// An item of a logged table (`Tables.logged`).
    case keyedItem(table: String, key: String)

    /// Each target once, in first-seen order.
    static func unique(_ targets: [LoggedTarget]) -> [LoggedTarget] {
        var seen = Set<LoggedTarget>()
        return targets.filter { seen.insert($0).inserted }
    }

    init(_ payload: LogPayload) {
        switch payload {
        case .objectCommit(let bucket, let key, let record) where record.versionOrder != 0:
            self = .version(bucket: bucket, key: key, order: record.versionOrder)
        case .versionDelete(let bucket, let key, let order): self = .version(bucket: bucket, key: key, order: order)
        case .objectCommit(let bucket, let key, _), .objectDelete(let bucket, let key): self = .object(bucket: bucket, key: key)
        case .bucketCreate(let name, _), .bucketDelete(let name): self = .bucket(name)
        case .encryptionDomain(let keyId, _): self = .encryptionDomain(keyId)
        case .keyedItem(let table, let key, _): self = .keyedItem(table: table, key: key)
        }
    }
}

extension Committer {
    /// A request that failed after appending its log record leaves that record in the segment
    /// (appends cannot be taken back), where rebuilding the index would replay it and bring the
    /// failed change back. A newer record saying what the index really holds for the same object
    /// or bucket supersedes it; for an object that exists, the index points at the new record so
    /// that compaction keeps it. If even that append fails (the disk is full), the target is
    /// returned for a later batch to retry and the error is logged: the live index is right
    /// either way.
    func compensate(_ targets: [LoggedTarget], txn: borrowing Transaction, context: CommitContext) -> [LoggedTarget] {
        let targets = LoggedTarget.unique(targets)
        for (index, target) in targets.enumerated() {
            do {
                switch target {
                case .object(let bucket, let key):
                    if var record = try txn.object(objects, bucket: bucket, key: key) {
                        let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                        record.commitLocation = location
                        record.sequence = sequence
                        try txn.putObject(objects, bucket: bucket, key: key, record)
                    } else {
                        _ = try context.log(.objectDelete(bucket: bucket, key: key))
                    }
                case .version(let bucket, let key, let order):
                    try compensateVersion(bucket: bucket, key: key, order: order, txn: txn, context: context)
                case .bucket(let name):
                    let nameKey = Array(name.utf8)
                    let value = nameKey.count > Self.maxKeyLength ? nil : try txn.get(buckets, nameKey)
                    if let record = try value.map({ try $0.decode { try BucketRecord.decode(&$0) } }) {
                        _ = try context.log(.bucketCreate(name: name, record: record))
                    } else {
                        _ = try context.log(.bucketDelete(name: name))
                    }
                case .encryptionDomain(let keyId):
                    // The data key the index holds is the one a rebuild must restore.
                    if let wrapped = try txn.get(meta, Engine.domainKey(keyId)) {
                        _ = try context.log(.encryptionDomain(keyId: keyId, wrappedKey: Array(wrapped)))
                    }
                case .keyedItem(let table, let key):
                    // The item as the index holds it, or its removal.
                    guard let itemTable = keyedItemTables[table] else { continue }
                    let value = try txn.get(itemTable, Array(key.utf8))
                    // An account an earlier version kept in clear (not sealed yet) never goes to
                    // a segment, even to supersede a failed change.
                    if table == IndexTable.accounts.rawValue, let value, !Engine.isSealed(value) { continue }
                    _ = try context.log(.keyedItem(table: table, key: key, value: value))
                }
            } catch {
                // The next append would most likely fail the same way: keep the rest for later.
                let owed = Array(targets[index...])
                logger.error("\(owed.count) log records of failed requests could not be superseded yet: \(error)")
                return owed
            }
        }
        return []
    }

    /// Logs what the index holds for one version: its record (the current one's from the
    /// objects table, which then points at the new record), or its removal.
    private func compensateVersion(
        bucket: String, key: String, order: UInt64, txn: borrowing Transaction, context: CommitContext
    ) throws {
        if var current = try txn.object(objects, bucket: bucket, key: key), current.effectiveOrder == order {
            let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: current))
            current.commitLocation = location
            current.sequence = sequence
            try txn.putObject(objects, bucket: bucket, key: key, current)
            try txn.putVersion(versions, bucket: bucket, key: key, current)
        } else if var version = try txn.versionEntry(versions, bucket: bucket, key: key, order: order) {
            let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: version))
            version.commitLocation = location
            version.sequence = sequence
            try txn.putVersion(versions, bucket: bucket, key: key, version)
        } else {
            _ = try context.log(.versionDelete(bucket: bucket, key: key, order: order))
        }
    }

    /// LMDB's default longest key.
    static let maxKeyLength = 511
}
