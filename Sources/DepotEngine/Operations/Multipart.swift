import DepotHashing
import DepotStorage

/// What a completed multipart object looks like, decided by the front door from the parts
/// (S3: MD5-of-MD5s ETag and composite or full-object checksums).
public struct CompletedObject: Sendable {
    public var etag: String
    public var checksums: [(String, String)]
    public var checksumType: String
    /// False for uploads that are one file sent in pieces (tus): no part boundaries are kept.
    public var keepsParts: Bool = true

    public init(etag: String, checksums: [(String, String)] = [], checksumType: String = "", keepsParts: Bool = true) {
        self.keepsParts = keepsParts
        self.etag = etag
        self.checksums = checksums
        self.checksumType = checksumType
    }
}

extension Engine {
    /// Starts a multipart upload; returns its id (32 hex digits, unguessable).
    public func createUpload(_ upload: UploadRecord) async throws -> String {
        try checkKeyLength(bucket: upload.bucket, key: upload.key)
        let id = Hex.encode(secureRandomBytes(16))
        let (bucketTable, uploadTable) = (buckets, indexStore.table(.uploads))
        do {
            try await committer.submit { txn, _ in
                guard try txn.contains(bucketTable, Array(upload.bucket.utf8)) else {
                    throw EngineError.noSuchBucket(upload.bucket)
                }
                try txn.put(uploadTable, Array(id.utf8), upload.encoded())
            }
        } catch { throw EngineError.wrap(error) }
        return id
    }

    public func upload(_ id: String) throws -> UploadRecord? {
        let table = indexStore.table(.uploads)
        return try indexStore.read { txn in try txn.get(table, Array(id.utf8)).map(UploadRecord.decode) }
    }

    /// Opens an ingest session whose bytes become part `number` of upload `id`.
    public func startPart(uploadId id: String, number: Int) throws -> IngestSession {
        guard let upload = try upload(id) else { throw EngineError.noSuchUpload(id) }
        return IngestSession(engine: self, bucket: upload.bucket, key: upload.key, uploadId: id, partNumber: number)
    }

    /// Parts of an upload in part-number order, after `after`, at most `limit` (manifests not decoded).
    public func listParts(uploadId id: String, after: Int = 0, limit: Int = 10000) throws -> (
        parts: [PartRecord], isTruncated: Bool
    ) {
        let table = indexStore.table(.parts)
        let prefix = Tables.partPrefix(upload: id)
        return try indexStore.read { txn in
            var parts: [PartRecord] = []
            var truncated = false
            try txn.scan(table, from: Tables.partKey(upload: id, number: after + 1)) { key, value in
                guard key.starts(with: prefix) else { return false }
                if parts.count == limit {
                    truncated = true
                    return false
                }
                parts.append(try PartRecord.decode(value, withManifest: false))
                return true
            }
            return (parts, truncated)
        }
    }

    /// Uploads in progress, in upload-id order, optionally only those of one bucket.
    public func listUploads(bucket: String? = nil) throws -> [(id: String, upload: UploadRecord)] {
        let table = indexStore.table(.uploads)
        return try indexStore.read { txn in
            var out: [(String, UploadRecord)] = []
            try txn.scan(table) { key, value in
                let upload = try UploadRecord.decode(Array(value))
                if bucket == nil || upload.bucket == bucket { out.append((String(decoding: key, as: UTF8.self), upload)) }
                return true
            }
            return out
        }
    }

    /// Joins the named parts into the object, copying no bytes: the object's manifest is the
    /// parts' manifests in order, and their chunk references pass to it.
    public func completeUpload(
        uploadId id: String, parts requested: [(number: Int, etag: String?)], minimumPartSize: UInt64,
        precondition: CommitPrecondition? = nil, origin: ChangeOrigin = .s3("CompleteMultipartUpload"),
        finish: @escaping @Sendable (UploadRecord, [PartRecord]) throws -> CompletedObject
    ) async throws -> ObjectRecord {
        try checkOutboxRoom()
        let engine = self
        let (uploadTable, partTable) = (indexStore.table(.uploads), indexStore.table(.parts))
        let completedTable = indexStore.table(.completedUploads)
        do {
            let (object, made) = try await committer.submit { txn, context -> (ObjectRecord, (bucket: String, key: String)?) in
                guard let upload = try txn.get(uploadTable, Array(id.utf8)).map(UploadRecord.decode) else {
                    // A repeat that raced the first Complete: the same object, unchanged.
                    if let object = try engine.completedObject(uploadId: id, txn: txn) { return (object, nil) }
                    throw EngineError.noSuchUpload(id)
                }
                var all: [Int: PartRecord] = [:]
                let prefix = Tables.partPrefix(upload: id)
                try txn.scan(partTable, from: prefix) { key, value in
                    guard key.starts(with: prefix) else { return false }
                    let part = try PartRecord.decode(value)
                    all[part.number] = part
                    return true
                }
                guard !requested.isEmpty else { throw EngineError.invalidPart("no parts given") }
                var chosen: [PartRecord] = []
                var last = 0
                for (number, etag) in requested {
                    guard number > last else { throw EngineError.invalidPartOrder }
                    last = number
                    guard let part = all[number] else { throw EngineError.invalidPart("part \(number) was not uploaded") }
                    if let etag, etag != part.etag { throw EngineError.invalidPart("part \(number) has ETag \(part.etag)") }
                    chosen.append(part)
                }
                for part in chosen.dropLast() where part.size < minimumPartSize { throw EngineError.entityTooSmall }
                let completed = try finish(upload, chosen)
                let previous = try txn.object(engine.objects, bucket: upload.bucket, key: upload.key)
                // Throws noSuchBucket (a bucket deleted since the upload began): the one read of
                // its record in this commit, a PostgreSQL round trip in cluster mode.
                let plan = try engine.versionPlan(bucket: upload.bucket, key: upload.key, current: previous, txn: txn)
                try precondition?(previous)
                let m = upload.metadata
                var record = ObjectRecord(
                    size: chosen.reduce(0) { $0 + $1.size }, etag: completed.etag, created: Engine.now(), owner: m.owner,
                    contentType: m.contentType, systemMetadata: m.systemMetadata, userMetadata: m.userMetadata, tags: m.tags,
                    checksums: completed.checksums, checksumType: completed.checksumType,
                    partSizes: completed.keepsParts ? chosen.map(\.size) : [],
                    manifest: chosen.flatMap(\.manifest))
                try engine.releaseUploadedParts(uploadId: id, txn: txn)  // they become the object's
                try engine.chargeUsage(added: record, removed: plan.replaced, txn: txn)
                try engine.planReplication(
                    bucket: upload.bucket, key: upload.key, record: &record, previous: previous, txn: txn)
                let (_, sequence) = try engine.logVersion(
                    plan, bucket: upload.bucket, key: upload.key, record: &record, context: context)
                try engine.recordCreated(
                    bucket: upload.bucket, key: upload.key, record: record, origin: origin, sequence: sequence, txn: txn,
                    context: context)
                // The chosen parts' references pass to the object; the others are released.
                let chosenNumbers = Set(chosen.map(\.number))
                for (number, part) in all where !chosenNumbers.contains(number) {
                    try engine.dropReferences(part.manifest, txn: txn, context: context)
                }
                for number in all.keys { try txn.delete(partTable, Tables.partKey(upload: id, number: number)) }
                try txn.delete(uploadTable, Array(id.utf8))
                try txn.put(
                    completedTable, Array(id.utf8),
                    CompletedUploadRecord(bucket: upload.bucket, key: upload.key, etag: completed.etag, completed: Engine.now())
                        .encoded())
                try engine.installVersion(
                    plan, bucket: upload.bucket, key: upload.key, record: record, txn: txn, context: context)
                return (record, (upload.bucket, upload.key))
            }
            // Counted like a single PUT (IngestSession.commit): the dashboard's ingest and the
            // cameras' last recording see multipart and tus uploads too; a repeated Complete does not count again.
            if let made { recordIngest(bucket: made.bucket, key: made.key, record: object) }
            return object
        } catch { throw EngineError.wrap(error) }
    }

    /// Drops an upload and its parts; their chunks become garbage unless shared.
    public func abortUpload(uploadId id: String) async throws {
        let engine = self
        let (uploadTable, partTable) = (indexStore.table(.uploads), indexStore.table(.parts))
        do {
            try await committer.submit { txn, context in
                guard try txn.contains(uploadTable, Array(id.utf8)) else { throw EngineError.noSuchUpload(id) }
                let prefix = Tables.partPrefix(upload: id)
                var keys: [[UInt8]] = []
                try txn.scan(partTable, from: prefix) { key, value in
                    guard key.starts(with: prefix) else { return false }
                    try engine.dropReferences(try PartRecord.decode(value).manifest, txn: txn, context: context)
                    keys.append(Array(key))
                    return true
                }
                try engine.releaseUploadedParts(uploadId: id, txn: txn)  // before the parts go
                for key in keys { try txn.delete(partTable, key) }
                try txn.delete(uploadTable, Array(id.utf8))
            }
        } catch { throw EngineError.wrap(error) }
    }

    /// Aborts uploads started more than `age` milliseconds ago (abandoned uploads expire), and forgets
    /// uploads completed that long ago (a repeated Complete then answers NoSuchUpload).
    @discardableResult
    public func expireUploads(olderThan age: Int64) async throws -> Int {
        let cutoff = Engine.now() - age
        var expired = 0
        for (id, upload) in try listUploads() where upload.created < cutoff {
            try? await abortUpload(uploadId: id)
            expired += 1
        }
        let completedTable = indexStore.table(.completedUploads)
        let forgotten: [[UInt8]] = try indexStore.read { txn in
            var keys: [[UInt8]] = []
            try txn.scan(completedTable) { key, value in
                if try CompletedUploadRecord.decode(Array(value)).completed < cutoff { keys.append(Array(key)) }
                return keys.count < 10_000
            }
            return keys
        }
        if !forgotten.isEmpty {
            try await committer.submit { txn, _ in
                for key in forgotten { try txn.delete(completedTable, key) }
            }
        }
        return expired
    }

    /// The object a completed upload made, for a repeated CompleteMultipartUpload of `bucket`/`key`: nil unless
    /// the upload completed recently (within the upload expiry) into that key and the object still has the ETag
    /// it completed with (it was not overwritten or deleted since).
    public func recentlyCompletedObject(uploadId id: String, bucket: String, key: String) throws -> ObjectRecord? {
        let table = indexStore.table(.completedUploads)
        return try indexStore.read { txn in
            guard let done = try txn.get(table, Array(id.utf8)).map(CompletedUploadRecord.decode),
                done.bucket == bucket, done.key == key
            else { return nil }
            return try completedObject(uploadId: id, txn: txn)
        }
    }

    func completedObject(uploadId id: String, txn: borrowing Transaction) throws -> ObjectRecord? {
        guard
            let done = try txn.get(indexStore.table(.completedUploads), Array(id.utf8)).map(CompletedUploadRecord.decode),
            let object = try txn.object(objects, bucket: done.bucket, key: done.key),
            object.etag == done.etag
        else { return nil }
        return object
    }
}

extension IngestSession {
    /// Stores the session's bytes as its upload's part, replacing an earlier upload of that part.
    public func commitPart(checksums: [(String, String)] = []) async throws -> PartRecord {
        guard let uploadId, let partNumber else { preconditionFailure("not a part session") }
        commitStarted = true
        try finishStream()
        let part = PartRecord(
            number: partNumber, size: size, md5: contentMD5, created: Engine.now(), checksums: checksums, manifest: manifestSoFar)
        let placements = placementsSoFar
        let engine = self.engine
        let (uploadTable, partTable) = (engine.indexStore.table(.uploads), engine.indexStore.table(.parts))
        do {
            return try await engine.committer.submit { txn, context in
                guard try txn.contains(uploadTable, Array(uploadId.utf8)) else { throw EngineError.noSuchUpload(uploadId) }
                let key = Tables.partKey(upload: uploadId, number: partNumber)
                try engine.chargeUploadedPart(uploadId: uploadId, partKey: key, size: part.size, txn: txn)
                if let previous = try txn.get(partTable, key) {
                    try engine.dropReferences(
                        try previous.withUnsafeBytes { try PartRecord.decode($0) }.manifest, txn: txn, context: context)
                }
                try engine.addReferences(placements, txn: txn, context: context)
                try txn.put(partTable, key, part.encoded())
                return part
            }
        } catch { throw EngineError.wrap(error) }
    }
}
