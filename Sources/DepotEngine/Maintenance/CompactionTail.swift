import DepotStorage

extension Engine {
    /// The objects and versions whose commit record the index places in `segment` at or after
    /// `offset`: bytes after the segment's last intact record. A torn tail from a crash never
    /// holds one (segment bytes are synced before the index commit that points at them), so one
    /// found there was damaged after it was written, and compaction keeps the segment rather than
    /// let its file, and with it the evidence, go silently. One pass over the objects and
    /// versions tables; compaction makes it only for a segment whose scan stopped early.
    func commitRecordsIndexed(in segment: UInt32, from offset: Int) throws -> [String] {
        let (objectTable, versionTable) = (objects, self.versionTable)
        return try indexStore.read { txn in
            var names: [String] = []
            // The current version of a versioned key is in both tables: named once.
            var seen: Set<RecordLocation> = []
            func note(_ name: @autoclosure () -> String, _ record: ObjectRecord) {
                let at = record.commitLocation
                if at.segment == segment, at.offset >= UInt64(offset), seen.insert(at).inserted { names.append(name()) }
            }
            try txn.scan(objectTable) { key, value in
                let record = try ObjectRecord.decodeValue(value, withManifest: false)
                let name = ObjectKeyLayout.name(indexKey: key, value: value).map { "\($0.bucket)/\($0.key)" }
                note(name ?? "an object", record)
                return true
            }
            try txn.scan(versionTable) { key, value in
                let record = try ObjectRecord.decodeValue(value, withManifest: false)
                let bucket = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
                let objectKey = try ObjectRecord.storedKey(inValue: value) ?? "?"
                note("\(bucket)/\(objectKey) (version \(record.effectiveOrder))", record)
                return true
            }
            return names
        }
    }
}
