import DepotHashing
import DepotStorage

extension Engine {
    /// A canonical text form of the index (buckets, objects with every field and manifest, chunk
    /// reference counts), so two indexes can be compared line by line. Record locations are left
    /// out: a rebuild may legitimately find the same chunk or record in another copy.
    public func dumpIndex(_ emit: (String) -> Void) throws {
        let (bucketTable, objectTable, chunkTable, versionTable) = (buckets, objects, chunks, self.versionTable)
        try indexStore.read { txn in
            try txn.scan(bucketTable) { key, value in
                var r = BinaryReader(value)
                let b = try BucketRecord.decode(&r)
                emit(
                    "bucket \(String(decoding: key, as: UTF8.self)) created=\(b.created) owner=\(b.owner) region=\(b.region) tags=\(b.tags)"
                        + (b.versioning == .unversioned ? "" : " versioning=\(b.versioning)")
                        + (b.objectLock.map {
                            " objectLock=\($0.defaultMode):\($0.defaultDays)d:\($0.defaultYears)y"
                        } ?? ""))
                return true
            }
            try txn.scan(objectTable) { key, value in
                let o = try ObjectRecord.decodeValue(value)
                let name = ObjectKeyLayout.name(indexKey: key, value: value).map { "\($0.bucket)/\($0.key)" } ?? "?"
                let manifest = o.manifest.map { "\(Hex.encode($0.hash.prefix(8))):\($0.length)" }.joined(separator: ",")
                emit(
                    "object \(name) size=\(o.size) etag=\(o.etag) "
                        + "created=\(o.created) owner=\(o.owner) type=\(o.contentType) sys=\(o.systemMetadata) "
                        + "meta=\(o.userMetadata) tags=\(o.tags) checksums=\(o.checksums) \(o.checksumType) "
                        + "parts=\(o.partSizes) state=\(o.localState) seq=\(o.sequence) "
                        + (o.hasVersionFields ? "version=\(o.versionId ?? "-") " : "")
                        + (o.lock == ObjectLockFields() ? "" : "lock=\(o.lock.mode):\(o.lock.retainUntil):\(o.lock.legalHold) ")
                        + "replicas=\(o.replicas.map { "\($0.tier):\($0.state.s3Name):\($0.attempts)" }) manifest=[\(manifest)]")
                return true
            }
            // Versions (versioned buckets): the fields that name and describe each version. The
            // current version's copy is described by its objects line (tier state lives there).
            try txn.scan(versionTable) { key, value in
                let o = try ObjectRecord.decodeValue(value)
                let name = try ObjectRecord.storedKey(inValue: value) ?? "?"
                let bucket = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
                let manifest = o.manifest.map { "\(Hex.encode($0.hash.prefix(8))):\($0.length)" }.joined(separator: ",")
                emit(
                    "version \(bucket)/\(name) id=\(o.versionId ?? "-") order=\(o.versionOrder) marker=\(o.isDeleteMarker) "
                        + "size=\(o.size) etag=\(o.etag) created=\(o.created) owner=\(o.owner) "
                        + "lock=\(o.lock.mode):\(o.lock.retainUntil):\(o.lock.legalHold) manifest=[\(manifest)]")
                return true
            }
            try txn.scan(chunkTable) { key, value in
                let entry = try ChunkEntry.decode(Array(value))
                emit("chunk \(Hex.encode(key)) length=\(entry.location.length) refs=\(entry.references)")
                return true
            }
        }
    }
}
