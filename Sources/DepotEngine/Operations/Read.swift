import DepotHashing
import DepotStorage
import Synchronization

/// A contiguous run of one chunk's bytes to read.
public struct ReadPiece: Sendable {
    public var location: RecordLocation
    public var skip: Int
    public var count: Int
    /// Chunks (positions in the object's manifest) to ask the kernel for when this piece is read,
    /// so that they come off the disk while this one is sent; empty for most pieces.
    public internal(set) var prefetch: Range<Int> = 0..<0
    /// The chunk's position in the manifest (an encrypted chunk is opened by its address).
    var chunk: Int = 0
}

/// An open object: its record and its chunk locations, resolved in the same index snapshot, so
/// a concurrent overwrite or delete never mixes two versions into one response. The lease keeps
/// the segments it points into on disk until the reader is released.
///
/// Every reader of an object's bytes goes through `bytes(_:)` (ObjectBytes.swift): it decides
/// between the local chunks and a read-through from a tier, and fails when neither can deliver
/// exactly the range. `plan`/`read` are its local half and know nothing of evicted objects.
public final class ObjectReader: @unchecked Sendable {
    public let bucket: String
    public let key: String
    public let record: ObjectRecord
    let locations: [RecordLocation]
    let store: DataPathStore
    private let lease: ReclaimLease
    /// Where an evicted object's bytes come from (the tiering part's source, if installed).
    let readThrough: ReadThrough?
    /// Set for an encrypted object: chunks are read whole, their tag checked, then decrypted.
    let domain: EncryptionDomain?
    /// The last chunk decrypted, as pieces of one chunk are read one after another.
    private let opened = Mutex<(chunk: Int, plaintext: [UInt8])?>(nil)

    init(
        bucket: String, key: String, record: ObjectRecord, locations: [RecordLocation], store: DataPathStore,
        lease: ReclaimLease, readThrough: ReadThrough?, domain: EncryptionDomain? = nil
    ) {
        self.domain = domain
        self.bucket = bucket
        self.key = key
        self.record = record
        self.locations = locations
        self.store = store
        self.lease = lease
        self.readThrough = readThrough
    }

    /// Whether the bytes are in the local segments (false once a transition evicted them).
    public var isLocal: Bool { record.localState == .present }

    /// The pieces of the local chunks that make up `range`, each at most `maxPiece` bytes. An
    /// evicted object has no local chunks: use `bytes(_:)`, which reads it through from a tier.
    ///
    /// Durable pages are dropped from the cache (`storage.cacheWrittenData`), so a stream reads
    /// from the disk: the first piece of each chunk asks for the chunks `prefetchChunks` ahead,
    /// each once, and never for one past the range (a `bytes=0-1` probe reads ahead nothing).
    public func plan(_ range: Range<UInt64>, maxPiece: Int = 1 << 20) -> [ReadPiece] {
        var pieces: [ReadPiece] = []
        var chunkStart: UInt64 = 0
        var chunks = 0..<0
        for (index, location) in locations.enumerated() {
            let chunkEnd = chunkStart + UInt64(plaintextLength(location))
            defer { chunkStart = chunkEnd }
            if chunkEnd <= range.lowerBound { continue }
            if chunkStart >= range.upperBound { break }
            chunks = (chunks.isEmpty ? index : chunks.lowerBound)..<index + 1
            var from = Int(max(range.lowerBound, chunkStart) - chunkStart)
            let to = Int(min(range.upperBound, chunkEnd) - chunkStart)
            // The range's first chunk asks for all the chunks ahead; each later one only for the
            // chunk that has just come into reach.
            let firstAhead = index == chunks.lowerBound ? index + 1 : index + Self.prefetchChunks
            var ahead = firstAhead..<index + 1 + Self.prefetchChunks
            while from < to {
                let count = min(maxPiece, to - from)
                pieces.append(ReadPiece(location: location, skip: from, count: count, prefetch: ahead, chunk: index))
                ahead = 0..<0
                from += count
            }
        }
        // Only now is the range's last chunk known.
        for i in pieces.indices { pieces[i].prefetch = pieces[i].prefetch.clamped(to: chunks) }
        return pieces
    }

    static let prefetchChunks = 2

    public func read(_ piece: ReadPiece, into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count == piece.count)
        for next in piece.prefetch { store.prefetch(locations[next]) }
        if domain != nil { return try readSealed(piece, into: buffer) }
        do {
            try store.read(piece.location, skip: piece.skip, into: buffer)
        } catch { throw EngineError.wrap(error) }
    }

    /// A chunk's plaintext length: an encrypted record carries the GCM tag after the ciphertext.
    private func plaintextLength(_ location: RecordLocation) -> Int {
        domain == nil ? Int(location.length) : Int(location.length) - AES256GCM.tagSize
    }

    /// Serves a piece of an encrypted chunk: the whole record is read and its tag checked before
    /// any byte of it is copied out; a failed tag is an I/O error, never garbage.
    private func readSealed(_ piece: ReadPiece, into buffer: UnsafeMutableRawBufferPointer) throws {
        guard let domain else { return }
        let plaintext: [UInt8]
        if let cached = opened.withLock({ $0 }), cached.chunk == piece.chunk {
            plaintext = cached.plaintext
        } else {
            let payload: [UInt8]
            do { payload = try store.readPayload(piece.location) } catch { throw EngineError.wrap(error) }
            do {
                plaintext = try domain.open(payload, address: record.manifest[piece.chunk].hash)
            } catch {
                throw EngineError.io(
                    "chunk \(piece.chunk) of \(bucket)/\(key) at \(piece.location) fails its authentication tag (\(error))")
            }
            opened.withLock { $0 = (piece.chunk, plaintext) }
        }
        guard piece.skip + piece.count <= plaintext.count else {
            throw EngineError.corrupt("chunk \(piece.chunk) of \(bucket)/\(key) is shorter than its manifest says")
        }
        plaintext.withUnsafeBytes {
            buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: $0[piece.skip..<piece.skip + piece.count]))
        }
    }

    /// Reads a whole range of the local chunks into memory; for small objects and tests. An
    /// evicted object throws `invalidObjectState` rather than reading as zeros.
    public func readAll(_ range: Range<UInt64>? = nil) throws -> [UInt8] {
        guard isLocal else { throw EngineError.invalidObjectState(key) }
        let range = range ?? 0..<record.size
        var out = [UInt8](repeating: 0, count: Int(range.count))
        var offset = 0
        for piece in plan(range) {
            try out.withUnsafeMutableBytes {
                try read(piece, into: UnsafeMutableRawBufferPointer(rebasing: $0[offset..<offset + piece.count]))
            }
            offset += piece.count
        }
        return out
    }
}

/// An object opened for its record only (a HEAD): what `Engine.openObjectHead` returns. It has no
/// chunk locations and no way to read bytes, so a HEAD's answer can never be asked for them: a
/// reader of bytes is an `ObjectReader`, from `Engine.openObject`.
public struct ObjectHead: Sendable {
    public let bucket: String
    public let key: String
    public let record: ObjectRecord

    /// Whether the bytes are in the local segments (false once a transition evicted them).
    public var isLocal: Bool { record.localState == .present }
}

extension Engine {
    /// Opens an object (or, with `version`, that version of it) for reading its bytes; nil when it
    /// does not exist. A delete marker opens with no bytes: the caller answers for it. An evicted
    /// older version whose bytes no tier holds is refused (`invalidObjectState`). `sealed` opens an
    /// encrypted object without its domain (no key needed, SSE-C too) for `sealedPayload` only,
    /// to send its ciphertext to a tier (SealedCopy.swift): never read such a reader's `bytes`.
    public func openObject(
        bucket: String, key: String, version: VersionSelector? = nil, customerKey: [UInt8]? = nil, sealed: Bool = false
    ) throws -> ObjectReader? {
        let lease = self.lease()
        guard let (record, locations) = try readRecord(bucket: bucket, key: key, version: version, forBytes: true)
        else { return nil }
        let source = record.localState == .evicted ? readThroughBox.source.withLock({ $0 })?.function : nil
        let domain =
            record.localState == .present && !sealed
            ? try self.domain(of: record, bucket: bucket, key: key, customerKey: customerKey) : nil
        return ObjectReader(
            bucket: bucket, key: key, record: record, locations: locations, store: dataPathStore, lease: lease,
            readThrough: source, domain: domain)
    }

    /// Opens an object's (or a version's) record without its bytes, for a HEAD; nil when it does
    /// not exist. An evicted older version opens too, whose bytes no tier holds. An SSE-C
    /// object still needs its key (a missing or wrong one throws CustomerKeyEncryption.Refusal),
    /// as S3's HEAD does.
    public func openObjectHead(
        bucket: String, key: String, version: VersionSelector? = nil, customerKey: [UInt8]? = nil
    ) throws -> ObjectHead? {
        guard let (record, _) = try readRecord(bucket: bucket, key: key, version: version, forBytes: false)
        else { return nil }
        if record.localState == .present {
            _ = try domain(of: record, bucket: bucket, key: key, customerKey: customerKey)
        }
        return ObjectHead(bucket: bucket, key: key, record: record)
    }

    /// The record and, when `forBytes`, its chunk locations, in one index snapshot, so a concurrent
    /// overwrite or delete never mixes two versions into one response.
    private func readRecord(
        bucket: String, key: String, version: VersionSelector?, forBytes: Bool
    ) throws -> (ObjectRecord, [RecordLocation])? {
        let (objectTable, chunkTable, versionTable) = (objects, chunks, self.versionTable)
        return try indexStore.read { txn in
            var found = try txn.object(objectTable, bucket: bucket, key: key)
            if let version, found.map({ version.matches($0) }) != true {
                found = try txn.version(versionTable, bucket: bucket, key: key, version)
                // The tier's plain key holds the current version: an evicted older one is read
                // through only from a copy of its own (`replicate.versions: all`), else refused.
                if forBytes, let older = found, older.localState == .evicted,
                    !self.tierHoldsVersionCopy(bucket: bucket, key: key, record: older)
                {
                    throw EngineError.invalidObjectState(key)
                }
            }
            guard let record = found else { return nil }
            // An evicted object's bytes are on a tier; readers use `readThrough`. A HEAD reads no
            // bytes, so it reads no chunk entries either (one index read per manifest entry),
            // except in cluster mode: there the rows a read fetched are what the node answers
            // from while PostgreSQL is unreachable (OutageReadCache), and a client that HEADs
            // before it GETs (rclone, s3cmd) must find the locations there too
            // (test_cluster_outage); they come in the same PostgreSQL read as the record.
            let wantsLocations = forBytes || indexStore.isSharedBetweenNodes
            if record.localState == .evicted || record.isDeleteMarker || !wantsLocations { return (record, []) }
            var locations: [RecordLocation] = []
            locations.reserveCapacity(record.manifest.count)
            for ref in record.manifest {
                guard let entry = try txn.get(chunkTable, ref.hash).map(ChunkEntry.decode) else {
                    throw EngineError.corrupt("chunk of \(bucket)/\(key) missing from the index")
                }
                locations.append(entry.location)
            }
            return (record, locations)
        }
    }
}
