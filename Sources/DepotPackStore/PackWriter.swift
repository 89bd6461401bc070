import DepotStorage
import Dispatch
import Logging
import NIOCore

/// The write side of the pack store: the open pack in memory, sealed packs on their way to the
/// object store, and the bounds on both.
///
/// Records are appended to the open pack. It is sealed when the next record would take it past
/// `packTargetSize`, or by `syncDirty()`; a sealed pack is uploaded in the background (at most
/// `maxUploadsInFlight` at once) and stays in memory, serving reads, until the store has it.
/// `syncDirty()` seals the open pack and waits for every pack sealed so far: a commit that
/// follows it points only at packs the store holds. A pack whose upload failed stays in memory
/// and is sent again by the next sync (so a store outage fails the syncs, and the writes, until
/// it ends, and loses nothing); memory is bounded by `maxBufferedBytes`, beyond which appends
/// wait, and fail once the wait passes its bound or every pending upload has failed.
final class PackWriter: @unchecked Sendable {
    private enum UploadState {
        case waiting
        case uploading
        case failed(PackStoreError)
    }

    private struct SealedPack {
        let bytes: ByteBuffer
        var state: UploadState
    }

    private let client: PackObjectClient
    private let settings: PackStoreSettings
    private let logger: Logger
    private let uploads = DispatchQueue(label: "depot.packs.upload", attributes: .concurrent)
    private let monitor = Monitor()

    // Guarded by `monitor`.
    private var writer: UInt32
    private var nextSequence: UInt32 = 1
    private var open: (id: PackId, bytes: ByteBuffer)?
    /// Sealed packs the store does not hold yet, and the order they were sealed in.
    private var sealed: [PackId: SealedPack] = [:]
    private var sealOrder: [PackId] = []
    private var uploading = 0
    /// Bytes of the open and the sealed packs.
    private var buffered = 0
    /// Packs whose name another writer had taken (PackId): their records are gone.
    private var lost: Set<PackId> = []
    private(set) var packsStored = 0
    /// Called with each pack once the store holds it, outside the lock (the read cache keeps it).
    var onStored: (@Sendable (PackId, ByteBuffer) -> Void)?
    /// Counts finished upload attempts (appends waiting for memory wake on it).
    private var uploadsFinished = 0

    /// `writer` names the first packs (tests use it to draw a taken id); random by default.
    init(client: PackObjectClient, settings: PackStoreSettings, logger: Logger, writer: UInt32? = nil) {
        self.client = client
        self.settings = settings
        self.logger = logger
        self.writer = writer ?? PackId.randomWriter()
    }

    var writerId: UInt32 { monitor.withLock { writer } }
    var bufferedBytes: Int { monitor.withLock { buffered } }
    var storedCount: Int { monitor.withLock { packsStored } }

    /// Appends one record (its encoded header, then its payload pieces) and returns where it is.
    func append(header: [UInt8], pieces: [UnsafeRawBufferPointer]) throws -> PackLocation {
        let length = pieces.reduce(0) { $0 + $1.count }
        let total = header.count + length
        let deadline = MonotonicDeadline(secondsFromNow: settings.appendWaitSeconds)
        return try monitor.withLock {
            var retried = false
            while true {
                if let current = open, current.bytes.readableBytes + total > settings.packTargetSize,
                    current.bytes.readableBytes > SegmentStore.fileHeaderSize
                {
                    sealOpenLocked()
                }
                let newPack = open == nil ? SegmentStore.fileHeaderSize : 0
                // A record larger than the whole budget still goes, alone.
                if buffered == 0 || buffered + total + newPack <= settings.maxBufferedBytes { break }
                if open != nil {
                    // Only uploads free memory, and the open pack's starts once it is sealed.
                    sealOpenLocked()
                    continue
                }
                if !retried {
                    // Waiting only helps if uploads are moving: send failed packs again once.
                    retried = true
                    requeueFailedLocked(Set(sealed.keys))
                }
                if stuckLocked || deadline.hasPassed {
                    throw PackStoreError(
                        "chunk store: \(buffered >> 20) MiB of packs wait for the object store (limit \(settings.maxBufferedBytes >> 20) MiB)"
                            + (lastErrorLocked.map { "; last upload error: \($0)" } ?? ""), transient: true)
                }
                // Uploads finishing are what frees memory: wait for the next one, then look again.
                let seen = uploadsFinished
                _ = monitor.waitLocked(until: deadline) { uploadsFinished != seen }
            }
            if open == nil {
                if nextSequence == UInt32.max {
                    writer = PackId.randomWriter()
                    nextSequence = 1
                }
                let id = PackId(writer: writer, sequence: nextSequence)
                nextSequence += 1
                var bytes = ByteBufferAllocator().buffer(capacity: min(settings.packTargetSize, max(64 << 10, total * 2)))
                bytes.writeBytes(PackHeader.bytes(id))
                buffered += bytes.readableBytes
                open = (id, bytes)
            }
            let offset = open!.bytes.readableBytes
            open!.bytes.writeBytes(header)
            for piece in pieces { open!.bytes.writeBytes(piece) }
            buffered += total
            return PackLocation(pack: open!.id, offset: offset, length: length)
        }
    }

    /// Every pending upload has failed and none is running: waiting cannot free memory.
    private var stuckLocked: Bool {
        uploading == 0 && !sealed.isEmpty
            && sealed.values.allSatisfy {
                if case .failed = $0.state { return true } else { return false }
            }
    }

    private var lastErrorLocked: PackStoreError? {
        for id in sealOrder.reversed() { if case .failed(let error) = sealed[id]?.state { return error } }
        return nil
    }

    /// Seals the open pack (unless it holds no record) and starts its upload when a slot is free.
    private func sealOpenLocked() {
        guard let current = open else { return }
        open = nil
        guard current.bytes.readableBytes > SegmentStore.fileHeaderSize else {
            buffered -= current.bytes.readableBytes
            return
        }
        sealed[current.id] = SealedPack(bytes: current.bytes, state: .waiting)
        sealOrder.append(current.id)
        startUploadsLocked()
    }

    private func requeueFailedLocked(_ ids: Set<PackId>) {
        for id in ids {
            if case .failed = sealed[id]?.state { sealed[id]!.state = .waiting }
        }
        startUploadsLocked()
    }

    private func startUploadsLocked() {
        for id in sealOrder where uploading < max(1, settings.maxUploadsInFlight) {
            guard let pack = sealed[id], case .waiting = pack.state else { continue }
            sealed[id]!.state = .uploading
            uploading += 1
            let bytes = pack.bytes
            uploads.async { [self] in upload(id, bytes) }
        }
    }

    private func upload(_ id: PackId, _ bytes: ByteBuffer) {
        let outcome = Result { try client.putPack(id, bytes: bytes) }
        monitor.withLock {
            uploading -= 1
            uploadsFinished += 1
            switch outcome {
            case .success(.stored):
                forgetLocked(id, bytes.readableBytes)
                packsStored += 1
            case .success(.nameTaken):
                // Another writer drew the same id (PackId): this pack cannot be stored under its
                // name. Its records are reported discarded (the requests using them fail), and
                // later packs use a new writer id.
                forgetLocked(id, bytes.readableBytes)
                lost.insert(id)
                if id.writer == writer {
                    writer = PackId.randomWriter()
                    nextSequence = 1
                }
                logger.error("chunk store: pack \(id) exists in the store and is not this one; its records are lost")
            case .failure(let error as PackStoreError):
                sealed[id]?.state = .failed(error)
                logger.warning("chunk store: pack \(id) not stored yet (kept in memory, sent again at the next sync): \(error)")
            case .failure(let error):
                sealed[id]?.state = .failed(PackStoreError("PUT pack \(id): \(error)", transient: true))
            }
            startUploadsLocked()
            monitor.broadcast()
        }
        if case .success(.stored) = outcome { onStored?(id, bytes) }
    }

    private func forgetLocked(_ id: PackId, _ size: Int) {
        sealed[id] = nil
        sealOrder.removeAll { $0 == id }
        buffered -= size
    }

    /// Seals the open pack and waits (at most `syncTimeoutSeconds`) until every pack sealed so
    /// far is in the store; failed ones are sent again first. Returns how many packs it waited for.
    func syncDirty() throws -> Int {
        try monitor.withLock {
            sealOpenLocked()
            let targets = Set(sealed.keys)
            if targets.isEmpty { return 0 }
            requeueFailedLocked(targets)
            let deadline = MonotonicDeadline(secondsFromNow: settings.syncTimeoutSeconds)
            let settled = monitor.waitLocked(until: deadline) {
                targets.allSatisfy { id in
                    guard let pack = sealed[id] else { return true }
                    if case .failed = pack.state { return true } else { return false }
                }
            }
            let pending = targets.filter { sealed[$0] != nil }
            guard settled else {
                throw PackStoreError(
                    "chunk store: \(pending.count) of \(targets.count) packs not stored after \(settings.syncTimeoutSeconds) s",
                    transient: true)
            }
            if let failed = pending.first, case .failed(let error) = sealed[failed]?.state {
                throw PackStoreError(
                    "chunk store: \(pending.count) of \(targets.count) packs not stored: \(error)", transient: error.transient)
            }
            if let gone = targets.first(where: { lost.contains($0) }) {
                throw PackStoreError("chunk store: pack \(gone) could not be stored under its name", transient: false)
            }
            return targets.count
        }
    }

    /// Copies payload bytes of a pack still in memory; false when the pack is not (any more).
    func copyIfBuffered(_ pack: PackId, from start: Int, into buffer: UnsafeMutableRawBufferPointer) throws -> Bool {
        try monitor.withLock {
            let bytes: ByteBuffer
            if let current = open, current.id == pack {
                bytes = current.bytes
            } else if let held = sealed[pack] {
                bytes = held.bytes
            } else {
                return false
            }
            guard start + buffer.count <= bytes.readableBytes else {
                throw StorageError.corrupt("pack \(pack) ends at \(bytes.readableBytes), before \(start + buffer.count)")
            }
            bytes.withUnsafeReadableBytes { source in
                buffer.copyMemory(from: UnsafeRawBufferPointer(rebasing: source[start..<start + buffer.count]))
            }
            return true
        }
    }

    func isLost(_ pack: PackId) -> Bool { monitor.withLock { lost.contains(pack) } }
}
