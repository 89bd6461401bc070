import DepotHashing
import DepotStorage

extension Engine {
    /// A canonical text form of the index (buckets, objects with every field and manifest, chunk
    /// reference counts), so two indexes can be compared line by line. Record locations are left
    /// out: a rebuild may legitimately find the same chunk or record in another copy.
    public func dumpIndex(_ emit: (String) -> Void) throws {
        let (bucketTable, objectTable, chunkTable) = (buckets, objects, chunks)
        try environment.read { txn in
            try txn.scan(bucketTable) { key, value in
                var r = BinaryReader(value)
                let b = try BucketRecord.decode(&r)
                emit(
                    "bucket \(String(decoding: key, as: UTF8.self)) created=\(b.created) owner=\(b.owner) region=\(b.region) tags=\(b.tags)"
                )
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
                        + "replicas=\(o.replicas.map { "\($0.tier):\($0.state.s3Name):\($0.attempts)" }) manifest=[\(manifest)]")
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
