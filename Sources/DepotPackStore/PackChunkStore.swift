import DepotStorage
import Logging

/// A `ChunkStore` whose records live in pack objects on an S3-compatible store (issue 21's
/// shared chunk store; README "Chunks in pack objects").
///
/// A pack is a segment file in all but its place: the same 16-byte file header (PackHeader)
/// and the same records (`RecordHeader`, CRC32C), so a downloaded pack scans and rebuilds like a
/// segment. Writes go to the open pack in memory (PackWriter); `syncDirty()`, which the engine
/// calls before committing an index batch, returns only once every pack holding a record
/// appended before it is stored, so an acknowledged write is durable in the object store.
/// Reads come from memory while a pack is not yet stored, then through the local block cache
/// (PackBlockCache) from Range GETs of the pack.
///
/// The calls are synchronous, as `ChunkStore` is; they wait on the caller's thread, each wait
/// bounded by the settings' timeouts, and the store's own I/O runs on its own event loop.
public final class PackChunkStore: ChunkStore, @unchecked Sendable {
    public let settings: PackStoreSettings
    let client: PackObjectClient
    let writer: PackWriter
    let cache: PackBlockCache

    public convenience init(settings: PackStoreSettings, logger: Logger = Logger(label: "depot.packs")) throws {
        try self.init(settings: settings, logger: logger, writer: nil)
    }

    /// The same, naming its first packs after `writer` (tests: two writers with one id).
    init(settings: PackStoreSettings, logger: Logger, writer writerId: UInt32?) throws {
        self.settings = settings
        client = PackObjectClient(settings: settings)
        writer = PackWriter(client: client, settings: settings, logger: logger, writer: writerId)
        do {
            cache = try PackBlockCache(
                directory: settings.cachePath, capacity: settings.cacheSize, blockSize: settings.cacheBlockSize,
                waitSeconds: settings.requestTimeoutSeconds * Double(max(1, settings.attempts)) + 5, logger: logger)
        } catch {
            client.shutdown()
            throw error
        }
        if settings.cacheWrites {
            let cache = self.cache
            writer.onStored = { pack, bytes in cache.keep(pack, bytes) }
        }
    }

    deinit { client.shutdown() }

    /// Stops the store's HTTP client (pending uploads fail; call `syncDirty()` first).
    public func shutdown() { client.shutdown() }

    /// Creates the bucket unless it exists.
    public func createBucketIfMissing() throws { try client.createBucketIfMissing() }

    public func append(kind: RecordKind, sequence: UInt64, hash: [UInt8], pieces: [UnsafeRawBufferPointer]) throws
        -> RecordLocation
    {
        let header = RecordHeader.encode(kind: kind, sequence: sequence, hash: hash, pieces: pieces)
        return try writer.append(header: header, pieces: pieces).recordLocation
    }

    public func read(_ location: RecordLocation, skip: Int = 0, into buffer: UnsafeMutableRawBufferPointer) throws {
        let place = PackLocation(location)
        guard skip >= 0, skip + buffer.count <= place.length else {
            throw StorageError.corrupt("read of \(buffer.count) bytes at \(skip) is outside record \(place.pack)+\(place.offset)")
        }
        if buffer.isEmpty { return }
        let start = place.payloadOffset + skip
        if try writer.copyIfBuffered(place.pack, from: start, into: buffer) { return }
        let client = self.client
        try cache.read(place.pack, from: start, into: buffer) { pack, range in try client.getRange(pack, range) }
    }

    public func readPayload(_ location: RecordLocation) throws -> [UInt8] {
        try [UInt8](unsafeUninitializedCapacity: Int(location.length)) { buffer, count in
            try read(location, skip: 0, into: UnsafeMutableRawBufferPointer(buffer))
            count = Int(location.length)
        }
    }

    public func prefetch(_ location: RecordLocation) {
        let place = PackLocation(location)
        let client = self.client
        cache.prefetch(place.pack, place.payloadOffset..<place.payloadOffset + place.length) { pack, range in
            try client.getRange(pack, range)
        }
    }

    @discardableResult public func syncDirty() throws -> Int { try writer.syncDirty() }

    /// The object store has no device to fill: nothing to refuse up front. Memory is bounded
    /// at append (`maxBufferedBytes`), which waits for uploads and fails when they cannot go.
    public func ensureRoomForUpload(bytes: Int) throws {}

    /// True for records of a pack that could not be stored under its name (PackId).
    public func wasDiscarded(_ location: RecordLocation) -> Bool { writer.isLost(PackLocation(location).pack) }

    /// Range GETs and PUTs sent so far (every attempt counts), packs stored, bytes held in memory.
    public var rangeGetsSent: Int { client.getsSent.load(ordering: .relaxed) }
    public var putsSent: Int { client.putsSent.load(ordering: .relaxed) }
    public var packsStored: Int { writer.storedCount }
    public var bufferedBytes: Int { writer.bufferedBytes }
    public var cachedBytes: Int { cache.bytesHeld }
    /// This instance's writer id, the first part of its packs' names.
    public var writerId: UInt32 { writer.writerId }
}
