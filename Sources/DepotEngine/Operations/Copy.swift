import DepotStorage

extension Engine {
    /// Copies an object by reference: the new object shares the source's chunks (their counts go
    /// up), so no byte is read or written again. `make` sees the source inside the commit, so
    /// copy-source conditions and metadata directives are decided on exactly what is copied.
    public func copyObject(
        from source: (bucket: String, key: String), to target: (bucket: String, key: String),
        sourceVersion: VersionSelector? = nil, precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("Copy"),
        make: @escaping @Sendable (ObjectRecord) throws -> ObjectRecord
    ) async throws -> ObjectRecord {
        try checkKeyLength(bucket: target.bucket, key: target.key)
        try checkOutboxRoom()
        let engine = self
        do {
            return try await committer.submit { txn, context in
                guard try txn.contains(engine.buckets, Array(source.bucket.utf8)) else {
                    throw EngineError.noSuchBucket(source.bucket)
                }
                guard try txn.contains(engine.buckets, Array(target.bucket.utf8)) else {
                    throw EngineError.noSuchBucket(target.bucket)
                }
                var found = try txn.object(engine.objects, bucket: source.bucket, key: source.key)
                if let sourceVersion, found.map({ sourceVersion.matches($0) }) != true {
                    found = try txn.version(engine.versionTable, bucket: source.bucket, key: source.key, sourceVersion)
                    guard found != nil else {
                        throw EngineError.noSuchVersion(key: source.key, versionId: sourceVersion.text)
                    }
                }
                guard let original = found else { throw EngineError.noSuchKey(source.key) }
                guard !original.isDeleteMarker else { throw EngineError.deleteMarkerSource(source.key) }
                guard original.localState == .present else { throw EngineError.invalidObjectState(source.key) }
                var record = try make(original)
                // Shared chunks are in the source's encryption domain (or plaintext): the copy
                // can only be what the source is; another domain would need its bytes rewritten.
                if record.encryption?.keyId != original.encryption?.keyId {
                    throw EngineError.invalidRequest(
                        "copying between encryption settings (\(original.encryption?.keyId ?? "none") to \(record.encryption?.keyId ?? "none")) is not supported")
                }
                record.manifest = original.manifest
                record.size = original.size
                record.partSizes = original.partSizes
                record.localState = original.localState
                record.created = Engine.now()
                let previous = try txn.object(engine.objects, bucket: target.bucket, key: target.key)
                let plan = try engine.versionPlan(bucket: target.bucket, key: target.key, current: previous, txn: txn)
                try precondition?(previous)
                // The copy is a new version of its own (and holds no lock of the source's).
                (record.versionOrder, record.isNullVersion, record.isDeleteMarker) = (0, false, false)
                record.lock = ObjectLockFields()
                try engine.chargeUsage(added: record, removed: plan.replaced, txn: txn)
                record.replicas = []
                try engine.planReplication(
                    bucket: target.bucket, key: target.key, record: &record, previous: previous, txn: txn)
                let (_, sequence) = try engine.logVersion(
                    plan, bucket: target.bucket, key: target.key, record: &record, context: context)
                try engine.recordCreated(
                    bucket: target.bucket, key: target.key, record: record, origin: origin, sequence: sequence, txn: txn,
                    context: context)
                try engine.shareReferences(record.manifest, txn: txn)
                try engine.installVersion(
                    plan, bucket: target.bucket, key: target.key, record: record, txn: txn, context: context)
                return record
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Changes an object's (or, with `version`, that version's) metadata or tags in place (same
    /// bytes, same manifest, same version), logged so a rebuilt index keeps the change.
    @discardableResult
    public func updateObject(
        bucket: String, key: String, version: VersionSelector? = nil,
        _ update: @escaping @Sendable (inout ObjectRecord) throws -> Void
    ) async throws -> ObjectRecord {
        let engine = self
        do {
            return try await committer.submit { txn, context in
                var record: ObjectRecord
                var isCurrent = true
                if let current = try txn.object(engine.objects, bucket: bucket, key: key),
                    version.map({ $0.matches(current) }) ?? true
                {
                    record = current
                } else if let version {
                    guard let found = try txn.version(engine.versionTable, bucket: bucket, key: key, version) else {
                        throw EngineError.noSuchVersion(key: key, versionId: version.text)
                    }
                    guard !found.isDeleteMarker else { throw EngineError.deleteMarkerTarget(key) }
                    (record, isCurrent) = (found, false)
                } else {
                    throw EngineError.noSuchKey(key)
                }
                let (manifest, versionFields) = (record.manifest, (record.versionOrder, record.isNullVersion))
                try update(&record)
                record.manifest = manifest
                (record.versionOrder, record.isNullVersion) = versionFields
                let (location, sequence) = try context.log(.objectCommit(bucket: bucket, key: key, record: record))
                record.commitLocation = location
                record.sequence = sequence
                if isCurrent {
                    try txn.putObject(engine.objects, bucket: bucket, key: key, record)
                    if record.versionOrder != 0 { try txn.putVersion(engine.versionTable, bucket: bucket, key: key, record) }
                } else {
                    try txn.putVersion(engine.versionTable, bucket: bucket, key: key, record)
                }
                return record
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// One more reference for each chunk of a manifest that is already in the index.
    func shareReferences(_ manifest: [ChunkRef], txn: borrowing Transaction) throws {
        for ref in manifest {
            guard let bytes = try txn.get(chunks, ref.hash) else {
                throw EngineError.corrupt("chunk of a copied object is missing from the index")
            }
            var entry = try ChunkEntry.decode(bytes)
            entry.references += 1
            try txn.put(chunks, ref.hash, entry.encoded())
        }
    }
}
