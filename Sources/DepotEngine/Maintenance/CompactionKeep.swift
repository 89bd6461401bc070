import DepotStorage

extension Engine {
    /// Whether compaction must keep a record of a segment it empties: a chunk record the index
    /// points at, a commit record of a current object or version, and the tombstones, bucket
    /// and keyed item records a rebuild still needs to replay the index as it is.
    func compactionKeeps(_ record: ScannedRecord) throws -> Bool {
        let (chunkTable, objectTable, bucketTable, versionTable) = (chunks, objects, buckets, self.versionTable)
        let metaTable = meta
        let itemTables = committer.keyedItemTables
        return try indexStore.read { txn in
            switch record.header.kind {
            case .chunk:
                let entry = try txn.get(chunkTable, record.header.hash).map(ChunkEntry.decode)
                return entry?.location == record.location
            case .objectCommit, .objectDelete, .versionDelete:
                guard case .some(let payload) = try LogPayload.decode(kind: record.header.kind, payload: record.payload)
                else { return false }
                switch payload {
                case .objectCommit(let bucket, let key, let object):
                    let current = try txn.object(objectTable, bucket: bucket, key: key, withManifest: false)
                    if current?.sequence == record.header.sequence { return true }
                    // A version of a versioned bucket that its versions entry points at.
                    let order = object.versionOrder != 0 ? object.versionOrder : record.header.sequence
                    let version = try txn.versionEntry(versionTable, bucket: bucket, key: key, order: order)
                    return version?.effectiveOrder == order && version?.sequence == record.header.sequence
                case .versionDelete(let bucket, let key, let order):
                    // A tombstone hides older records of a version that is gone.
                    let current = try txn.object(objectTable, bucket: bucket, key: key, withManifest: false)
                    if current?.effectiveOrder == order { return false }
                    let version = try txn.versionEntry(versionTable, bucket: bucket, key: key, order: order)
                    return version?.effectiveOrder != order
                case .objectDelete(let bucket, let key):
                    // A tombstone still hides older commit records of a key that does not exist.
                    return try !txn.containsObject(objectTable, bucket: bucket, key: key)
                default: return false
                }
            case .bucketCreate, .bucketDelete:
                guard case .some(let payload) = try LogPayload.decode(kind: record.header.kind, payload: record.payload)
                else { return false }
                switch payload {
                case .bucketCreate(let name, _): return try txn.contains(bucketTable, Array(name.utf8))
                case .bucketDelete(let name): return try !txn.contains(bucketTable, Array(name.utf8))
                default: return false
                }
            case .encryptionDomain:
                // The record of the data key the index holds: without it a rebuilt index could
                // not decrypt anything in that domain.
                guard
                    case .encryptionDomain(let keyId, let wrapped)? = try LogPayload.decode(
                        kind: record.header.kind, payload: record.payload)
                else { return false }
                return try txn.get(metaTable, Engine.domainKey(keyId)).map(Array.init) == wrapped
            case .keyedItem:
                // The record saying what the index holds for the item (its value, or that it is
                // gone: a removal still hides the older records that set it). The newest record
                // of an item always says that, so replay never takes an older one.
                guard
                    case .keyedItem(let table, let key, let value)? = try LogPayload.decode(
                        kind: record.header.kind, payload: record.payload),
                    let itemTable = itemTables[table]
                else { return false }
                return try txn.get(itemTable, Array(key.utf8)) == value
            }
        }
    }
}
