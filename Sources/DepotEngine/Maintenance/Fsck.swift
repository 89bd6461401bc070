import DepotHashing
import DepotStorage

/// What `depot fsck` found.
public struct FsckReport: Sendable {
    public var segments = 0
    public var records = 0
    public var chunkRecords = 0
    public var bytesVerified: UInt64 = 0
    public var objects = 0
    public var problems: [String] = []
    /// Bytes after the last valid record of a segment: a torn tail left by a crash. Harmless as
    /// long as nothing in the index points there, which the checks below establish.
    public var tornTails: [String] = []
    public var isClean: Bool { problems.isEmpty }
}

extension Engine {
    /// Verifies every record's CRC and every chunk's SHA-256 in the segments, then every index
    /// entry: each chunk entry points at an intact record of that hash, each manifest's chunks
    /// exist, sizes add up, and reference counts equal the manifest references; every Object Lock
    /// in the index is one the log carries, on a version whose chunks exist (FsckLocks.swift).
    public func fsck(
        progress: (String) -> Void = { _ in }, advance: (WorkProgress) -> Void = { _ in }
    ) throws -> FsckReport {
        var report = FsckReport()
        guard segmentMaintenanceApplies("fsck's segment scan") else { return report }
        var intactChunks: [RecordLocation: [UInt8]] = [:]
        var lockProof = LockProof()
        var damage = FsckDamage()
        let ids = store.segmentIds
        let digest = StreamingDigest(.sha256)
        // Encrypted chunks are verified by their GCM tag: their hash is an address, not a SHA-256.
        let domains = try openableEncryptionDomains()
        let customerKeyChunks = try customerKeyChunkAddresses()
        var meter = WorkProgress(
            phase: "verifying segments", count: 0, unit: "records",
            totalBytes: WorkProgress.segmentBytes(ids.map { store.path(of: $0) }))
        var bytesBefore: UInt64 = 0
        for (index, id) in ids.enumerated() {
            report.segments += 1
            // Past damage: one bad record must not hide the intact ones after it.
            let summary = try SegmentScanner.scan(path: store.path(of: id), segment: id, pastDamage: true) { record in
                report.records += 1
                meter.count = report.records
                meter.bytes = bytesBefore + record.location.offset + UInt64(record.location.length)
                advance(meter)
                try lockProof.noteLogRecord(record)
                guard record.header.kind == .chunk else { return }
                report.chunkRecords += 1
                report.bytesVerified += UInt64(record.payload.count)
                digest.update(record.payload)
                let hash = digest.finalize()
                if hash == record.header.hash {
                    intactChunks[record.location] = hash
                } else if domains.contains(where: { (try? $0.open(record.payload, address: record.header.hash)) != nil }) {
                    intactChunks[record.location] = record.header.hash
                } else if customerKeyChunks.contains(record.header.hash) {
                    // SSE-C: no key to check the tag with; the record's CRC held (FsckCustomerKeys.swift).
                    intactChunks[record.location] = record.header.hash
                } else if domains.isEmpty && !configuration.encryption.isEmpty {
                    report.problems.append(
                        "chunk record at \(record.location) does not match its SHA-256 (no encryption key opened to check its tag)")
                } else {
                    report.problems.append(
                        "chunk record at \(record.location) does not match its SHA-256 nor opens in any encryption domain")
                }
            }
            damage.note(summary, of: id)
            report.problems += summary.damage.map(\.description)
            // The active segment of a running server is still growing; only flag old segments.
            if summary.trailingBytes > 0 {
                report.tornTails.append("segment \(id): \(summary.trailingBytes) bytes after the last valid record")
            }
            progress("segment \(index + 1)/\(ids.count): \(summary.records) records verified")
            bytesBefore += WorkProgress.segmentBytes([store.path(of: id)])
            // The whole file is read, past its last record (a torn tail, unused room).
            meter.bytes = bytesBefore
            advance(meter)
        }

        let (objectTable, chunkTable, partTable) = (objects, chunks, indexStore.table(.parts))
        try indexStore.read { txn in
            try damage.findChunks(txn: txn, table: chunkTable)
            var expected: [[UInt8]: UInt64] = [:]
            try txn.scan(objectTable) { key, value in
                report.objects += 1
                if report.objects % 256 == 0 { advance(WorkProgress(phase: "checking the index", count: report.objects, unit: "objects")) }
                guard let (bucket, objectKey) = ObjectKeyLayout.name(indexKey: key, value: value) else {
                    report.problems.append(
                        "object entry \(String(decoding: key.prefix { $0 != 0xFF }, as: UTF8.self).replacingNul())…: "
                            + "a hashed index key whose value does not carry the key it was made from")
                    return true
                }
                let name = "\(bucket)/\(objectKey)"
                let record = try ObjectRecord.decodeValue(value)
                let total = record.manifest.reduce(UInt64(0)) { $0 + UInt64($1.length) }
                if record.localState == .present && total != record.size {
                    report.problems.append("object \(name): manifest holds \(total) bytes, record says \(record.size)")
                }
                for ref in record.heldChunks { expected[ref.hash, default: 0] += 1 }
                report.problems += damage.problems(of: name, record)
                try lockProof.check(
                    bucket: bucket, key: objectKey, record, txn: txn, chunks: chunkTable, intact: intactChunks)
                return true
            }
            // Versions other than the current one hold their own references (Versioning.swift).
            let versionTable = self.versionTable
            try txn.scan(versionTable) { key, value in
                guard let objectKey = try ObjectRecord.storedKey(inValue: value) else { return true }
                let bucket = String(decoding: key.prefix { $0 != 0 }, as: UTF8.self)
                let record = try ObjectRecord.decodeValue(value)
                try lockProof.check(
                    bucket: bucket, key: objectKey, record, txn: txn, chunks: chunkTable, intact: intactChunks)
                let current = try txn.object(objectTable, bucket: bucket, key: objectKey, withManifest: false)
                if current?.effectiveOrder == record.effectiveOrder { return true }
                report.problems += damage.problems(of: "\(bucket)/\(objectKey) (version \(record.effectiveOrder))", record)
                for ref in record.heldChunks { expected[ref.hash, default: 0] += 1 }
                return true
            }
            // Parts of multipart uploads in progress hold references too.
            try txn.scan(partTable) { _, value in
                for ref in try PartRecord.decode(value).manifest { expected[ref.hash, default: 0] += 1 }
                return true
            }
            progress("\(report.objects) objects checked")
            var seen = 0
            try txn.scan(chunkTable) { key, value in
                seen += 1
                let hash = Array(key)
                let entry = try ChunkEntry.decode(Array(value))
                if intactChunks[entry.location] != hash {
                    report.problems.append(
                        "chunk \(Hex.encode(hash)) points at \(entry.location), which is not an intact record of it")
                }
                let wanted = expected.removeValue(forKey: hash) ?? 0
                if wanted != entry.references {
                    report.problems.append(
                        "chunk \(Hex.encode(hash)) has \(entry.references) references, manifests hold \(wanted)")
                }
                return true
            }
            for (hash, count) in expected {
                report.problems.append("chunk \(Hex.encode(hash)) is referenced \(count) times but missing from the index")
            }
            report.problems += lockProof.problems.sorted()
        }
        return report
    }
}

extension String {
    /// Shows an objects-table key as bucket/key.
    func replacingNul() -> String { String(map { $0 == "\0" ? "/" : $0 }) }
}
