/// What the engine's data paths (ingest, commit logging, reads) need from the store that holds
/// the chunk and log records: append a record from pieces, read a payload or a range of it,
/// read ahead, make appends durable, and refuse uploads that would eat the space reserve.
///
/// `SegmentStore` (local append-only segment files) is the conforming default. Maintenance that
/// is inherently about segment files (compaction, hole punching, fsck's scan, the reserve
/// ballast, segment ids and sizes) stays on `SegmentStore` itself and is not part of this
/// protocol: a store of another shape (issue 21's pack objects in an S3 store) brings its own.
/// The engine holds its data-path store as `DataPathStore` (DepotEngine), an enum of
/// `SegmentStore` or `any ChunkStore`, so the segment calls stay statically dispatched.
public protocol ChunkStore: AnyObject, Sendable {
    /// Appends one record whose payload is `pieces` in order and returns where it landed.
    func append(kind: RecordKind, sequence: UInt64, hash: [UInt8], pieces: [UnsafeRawBufferPointer]) throws
        -> RecordLocation

    /// Reads `buffer.count` payload bytes of a record, starting `skip` bytes into its payload.
    func read(_ location: RecordLocation, skip: Int, into buffer: UnsafeMutableRawBufferPointer) throws

    /// A record's whole payload.
    func readPayload(_ location: RecordLocation) throws -> [UInt8]

    /// Starts fetching a record's payload in the background (a hint: may do nothing).
    func prefetch(_ location: RecordLocation)

    /// Makes every record appended so far durable. Returns how many files (or objects) it synced.
    @discardableResult func syncDirty() throws -> Int

    /// Refuses (with `StorageError.noSpace`) `bytes` of new upload data that do not fit.
    func ensureRoomForUpload(bytes: Int) throws

    /// Whether a record's bytes were given back to the device (or store) since it was written.
    func wasDiscarded(_ location: RecordLocation) -> Bool
}

extension ChunkStore {
    /// Appends one record with a contiguous payload.
    public func append(kind: RecordKind, sequence: UInt64 = 0, hash: [UInt8] = [], payload: UnsafeRawBufferPointer) throws
        -> RecordLocation
    {
        try append(kind: kind, sequence: sequence, hash: hash, pieces: [payload])
    }
}

extension SegmentStore: ChunkStore {}

/// A failure of a chunk store that is not the local segments (an object store): `isTransient`
/// when the store is unreachable or overloaded for now, so the engine answers "retry later"
/// (503) instead of an internal error.
public protocol ChunkStoreFailure: Error, CustomStringConvertible {
    var isTransient: Bool { get }
}
