import CDepotChecksums

/// A run of whole 64-byte blocks queued for the worker, kept valid by `owner`.
struct Segment {
    let owner: AnyObject
    let base: UnsafeRawPointer
    let blocks: Int
    /// Bytes this run counts against the stream's window: a kept network buffer counts as the
    /// buffer it pins, whatever part of it the run covers.
    let pins: Int
    var consumed = 0
    var remaining: Int { blocks - consumed }

    init(owner: AnyObject, base: UnsafeRawPointer, blocks: Int, pins: Int) {
        self.owner = owner
        self.base = base
        self.blocks = blocks
        self.pins = pins
    }
}

/// Bytes copied for the stream (small pieces, pieces without an owner, the partial blocks at the
/// ends of kept pieces). Written by the stream's writer until handed over, then only read.
final class StagedBytes: @unchecked Sendable {
    let bytes: UnsafeMutableRawPointer
    let capacity: Int
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        bytes = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { bytes.deallocate() }

    func append(_ source: UnsafeRawBufferPointer) {
        guard let base = source.baseAddress, !source.isEmpty else { return }
        (bytes + count).copyMemory(from: base, byteCount: source.count)
        count += source.count
    }
}

/// The arrays one pass hands a kernel (states, data pointers, block counts of up to 16 lanes),
/// one set per thread running passes.
final class PassScratch {
    let states: UnsafeMutablePointer<UInt32>
    let data: UnsafeMutablePointer<UnsafePointer<UInt8>?>
    let blocks: UnsafeMutablePointer<Int>

    init(lanes: Int) {
        states = .allocate(capacity: 8 * lanes)
        data = .allocate(capacity: lanes)
        blocks = .allocate(capacity: lanes)
    }

    deinit {
        states.deallocate()
        data.deallocate()
        blocks.deallocate()
    }
}

/// One stream's bytes and state. `segments`, `queuedBlocks`, `pinned`, `claimed`, `waiting` and
/// `registered` are guarded by the service's lock; `state` belongs to whoever claimed the stream;
/// `staged` and `written` to the stream's writer.
final class LaneState: @unchecked Sendable {
    let function: LaneFunction
    var segments: [Segment] = []
    var queuedBlocks = 0
    var pinned = 0
    var staged: StagedBytes?
    /// Bytes written since the stream began.
    var written = 0
    var claimed = false
    /// Set while the stream's `finalize` waits for the worker: the next pass takes it first.
    var waiting = false
    var registered = false
    let state: UnsafeMutablePointer<UInt32>

    init(_ function: LaneFunction) {
        self.function = function
        state = .allocate(capacity: function.stateWords)
        function.initialize(state)
    }

    deinit { state.deallocate() }

    /// Records a pass: the lead runs and `blocks` of the next run are hashed. Runs used up move
    /// to `finished` (their owners are released by the caller, outside the lock).
    func consume(leadSegments: Int, blocks: Int, into finished: inout [Segment]) {
        for _ in 0..<leadSegments {
            let segment = segments.removeFirst()
            queuedBlocks -= segment.remaining
            pinned -= segment.pins
            finished.append(segment)
        }
        segments[0].consumed += blocks
        queuedBlocks -= blocks
        if segments[0].remaining == 0 {
            let segment = segments.removeFirst()
            pinned -= segment.pins
            finished.append(segment)
        }
    }

    /// Back to an empty stream. Called only once the service no longer sees it.
    func reset() {
        segments.removeAll()
        queuedBlocks = 0
        pinned = 0
        staged = nil
        written = 0
        claimed = false
        waiting = false
        function.initialize(state)
    }
}

/// One stream through the shared service (an upload's MD5, a chunk's SHA-256): the contract of
/// `StreamingDigest` (`update` pieces of any size, then `finalize`), used by one caller at a time.
/// `update` may wait for the service when the stream's window is full. Dropping a stream without
/// finalizing it is fine.
public final class HashStream: @unchecked Sendable {
    private let service: MultiBufferHashing
    private let lane: LaneState
    /// Set when this stream hashes on its writer's thread (`LaneFunction.inlineWithoutKernel`).
    private let inline: StreamingDigest?

    init(service: MultiBufferHashing, function: LaneFunction) {
        self.service = service
        lane = LaneState(function)
        inline =
            function.inlineWithoutKernel && function.minimumKernelLanes == Int.max
            ? StreamingDigest(function.algorithm) : nil
    }

    deinit { if inline == nil { service.release(lane) } }

    public func update(_ bytes: UnsafeRawBufferPointer) { update(bytes, owner: nil) }

    /// `owner` returns an object that keeps `bytes` valid and unchanged while it lives (the
    /// network buffer they are in): a large piece is then hashed in place instead of copied.
    public func update(_ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)?) {
        if let inline { return inline.update(bytes) }
        service.write(lane, bytes, owner: owner)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The digest of everything written; the stream is then empty again, ready for reuse.
    public func finalize() -> [UInt8] { inline?.finalize() ?? service.finish(lane) }
}
