import DepotStorage
import Logging
import Synchronization

/// The chunk store of the engine's data paths (ingest, commit logging, reads), chosen once at
/// start: the local segments (embedded mode, the default) or a store given in
/// `EngineConfiguration.chunkStore` (cluster mode's `PackChunkStore`, DepotPackStore).
///
/// An enum rather than `any ChunkStore` so the segment path stays what it was: each call is a
/// switch on a two-case tag, then a direct, statically dispatched (and inlinable) call into
/// `SegmentStore`; only the other store goes through its protocol witness table.
enum DataPathStore: Sendable {
    case segments(SegmentStore)
    case other(any ChunkStore)

    @inline(__always)
    func append(kind: RecordKind, sequence: UInt64 = 0, hash: [UInt8] = [], pieces: [UnsafeRawBufferPointer]) throws
        -> RecordLocation
    {
        switch self {
        case .segments(let store): return try store.append(kind: kind, sequence: sequence, hash: hash, pieces: pieces)
        case .other(let store):
            do { return try store.append(kind: kind, sequence: sequence, hash: hash, pieces: pieces) } catch {
                throw Self.engineError(error)
            }
        }
    }

    @inline(__always)
    func append(kind: RecordKind, sequence: UInt64 = 0, hash: [UInt8] = [], payload: UnsafeRawBufferPointer) throws
        -> RecordLocation
    {
        try append(kind: kind, sequence: sequence, hash: hash, pieces: [payload])
    }

    @inline(__always)
    func read(_ location: RecordLocation, skip: Int = 0, into buffer: UnsafeMutableRawBufferPointer) throws {
        switch self {
        case .segments(let store): try store.read(location, skip: skip, into: buffer)
        case .other(let store):
            do { try store.read(location, skip: skip, into: buffer) } catch { throw Self.engineError(error) }
        }
    }

    @inline(__always)
    func readPayload(_ location: RecordLocation) throws -> [UInt8] {
        switch self {
        case .segments(let store): return try store.readPayload(location)
        case .other(let store):
            do { return try store.readPayload(location) } catch { throw Self.engineError(error) }
        }
    }

    @inline(__always)
    func prefetch(_ location: RecordLocation) {
        switch self {
        case .segments(let store): store.prefetch(location)
        case .other(let store): store.prefetch(location)
        }
    }

    @discardableResult
    func syncDirty() throws -> Int {
        switch self {
        case .segments(let store): return try store.syncDirty()
        case .other(let store):
            do { return try store.syncDirty() } catch { throw Self.engineError(error) }
        }
    }

    func ensureRoomForUpload(bytes: Int) throws {
        switch self {
        case .segments(let store): try store.ensureRoomForUpload(bytes: bytes)
        case .other(let store):
            do { try store.ensureRoomForUpload(bytes: bytes) } catch { throw Self.engineError(error) }
        }
    }

    func wasDiscarded(_ location: RecordLocation) -> Bool {
        switch self {
        case .segments(let store): return store.wasDiscarded(location)
        case .other(let store): return store.wasDiscarded(location)
        }
    }

    /// What an upload dropped before its commit appended: segments may seal early for compaction
    /// (SegmentStore.noteAbandoned); another store has nothing to do with it.
    func noteAbandoned(_ bytesBySegment: [UInt32: Int]) {
        if case .segments(let store) = self { store.noteAbandoned(bytesBySegment) }
    }

    /// Another store's failure as the engine's: a transient one (`ChunkStoreFailure`, the object
    /// store unreachable) is `chunkStoreUnavailable`, which the front doors answer with 503 so
    /// clients retry; the segments' errors are left as they were (the callers wrap them).
    static func engineError(_ error: any Error) -> any Error {
        if let failure = error as? any ChunkStoreFailure {
            return failure.isTransient
                ? EngineError.chunkStoreUnavailable(failure.description) : EngineError.io(failure.description)
        }
        return EngineError.wrap(error)
    }

    var isSegments: Bool {
        if case .segments = self { return true } else { return false }
    }

    /// The segment or pack whose live bytes a record counts in (LiveUnit): a segment's offset
    /// never names a writer, whatever the segment size.
    func liveUnit(_ location: RecordLocation) -> LiveUnit {
        isSegments ? LiveUnit(segment: location.segment) : LiveUnit(location)
    }

    /// The pack store, in cluster mode (pack compaction, fsck).
    var packs: (any PackMaintenanceStore)? {
        if case .other(let store) = self { return store as? any PackMaintenanceStore }
        return nil
    }
}

extension Engine {
    /// True when the engine keeps its chunks in the local segments. Segment maintenance
    /// (compaction, hole punching, fsck's scan, the reserve ballast) asks first: with another
    /// chunk store it has nothing to work on and is skipped, said once per kind in the log.
    func segmentMaintenanceApplies(_ what: String) -> Bool {
        if dataPathStore.isSegments { return true }
        let first = SkippedMaintenance.noted.withLock { $0.insert(what).inserted }
        if first {
            logger.notice("\(what) skipped: chunks are in the configured chunk store (pack objects), not in local segments")
        }
        return false
    }
}

/// The maintenance kinds already logged as skipped (one line each per process).
enum SkippedMaintenance {
    static let noted = Mutex<Set<String>>([])
}
