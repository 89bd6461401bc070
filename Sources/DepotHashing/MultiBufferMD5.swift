import CDepotChecksums
import COpenSSL
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One MD5 service that many concurrent uploads feed, so their ETags are computed side by side in
/// SIMD lanes (`MD5Kernel`): 16 cameras uploading together cost about what one did before.
///
/// Each upload holds an `MD5Stream`. Its `update` queues the piece's whole 64-byte blocks for the
/// worker where they are, holding the network buffer they arrived in (pieces of 32 KiB or more
/// with an owner), or copies small pieces into a staging buffer that is queued once full; a
/// stream holds at most `window` bytes queued, so memory per upload is bounded and a writer the
/// hashing falls behind is held back. One worker thread takes the blocks waiting in up to 16
/// streams and runs them through the kernel in one pass. Streams with nothing waiting simply sit out a pass, and
/// streams that end at different times never wait for each other: `finalize` hashes its own last
/// blocks and the padded tail on the caller's thread. A block run that has a pass to itself goes
/// through OpenSSL, faster than one SIMD lane alone (`minimumKernelLanes`). Small uploads never wake the worker at all:
/// below `wakeThreshold` waiting bytes, `finalize` does everything on the caller's thread.
///
/// Measured (release, `swiftc -O` of this module with a driver in /tmp; writers feeding 64 MiB
/// each in 64 KiB pieces, on the 2-core AVX-512 machine at load 5-9 from parallel builds, so
/// ranges): MiB hashed per CPU-second of the whole process, writers' copies included.
///
/// Hashing large owned pieces in place instead of copying every byte into a ring first (the
/// copy was 3.0-3.2% of a 32 MiB PUT's server samples): A/B of release servers under 8 x 32 MiB
/// PUTs, interleaved, load 6-8, server CPU 3.29-3.39 → 3.16-3.24 s/GiB (medians 3.32 → 3.23);
/// `memmove` left the profile and libc's share fell from 4.4% to 1.9%. The figures below are
/// from the ring version.
///
/// | streams | OpenSSL, one per thread | this service            | passes' lanes used |
/// |--------:|------------------------:|------------------------:|-------------------:|
/// |       1 | 566-583                 | 495-543 (the ring copy) | 1 (OpenSSL)        |
/// |       8 | 572-583                 | 1,950-2,660             | 7.5 of 8           |
/// |      16 | 574-578                 | 2,520-3,770             | 15.5 of 16         |
public final class MultiBufferMD5: @unchecked Sendable {
    /// The service of the process: every upload's ETag.
    public static let shared = MultiBufferMD5(minimumKernelLanes: environmentMinimumKernelLanes())

    /// Test hook: `DEPOT_MD5_KERNEL_MIN_LANES=1` makes a server run the SIMD kernel on every pass,
    /// so integration tests (debug builds, where the default leaves every pass to OpenSSL) check
    /// the ETags the kernel computes.
    static func environmentMinimumKernelLanes() -> Int? {
        getenv("DEPOT_MD5_KERNEL_MIN_LANES").flatMap { Int(String(cString: $0)) }.map { max(1, $0) }
    }

    public let kernel: MD5Kernel
    /// Bytes a stream may hold unhashed before its writer waits.
    let window: Int
    /// Passes with fewer streams than this hash them one after another with OpenSSL instead:
    /// one SIMD lane alone is slower than OpenSSL (515 against 580 MiB/s), two are faster. In a
    /// debug build the kernels are unoptimized (C at -O0: 16 AVX-512 lanes do 176 MiB/s in
    /// total) and never beat OpenSSL, so every pass goes to OpenSSL; tests pass 1 to run the
    /// kernel on every pass.
    let minimumKernelLanes: Int
    /// The worker is woken once a stream has this much waiting: below it, handing the bytes over
    /// would cost more than hashing them on the caller's thread at `finalize`.
    static let wakeThreshold = 64 << 10
    /// Blocks one lane gets per pass (64 KiB): lanes with less sit idle for the rest of the pass,
    /// so this bounds that waste and how long one pass keeps finished streams waiting; 16 KiB
    /// passes measured slower (more passes, each waking the writers held back).
    static let blocksPerPass = 1024
    /// A stream's staging buffer for copied bytes; a full one is handed to the worker as it is.
    static let stagingCapacity = 64 << 10
    /// Pieces with an owner from this size on are hashed where they are; smaller ones are copied,
    /// since keeping a whole network buffer for a few bytes of it would pin far more memory than
    /// the bytes (StreamingChunker keeps pieces from the same size on).
    static let smallestInPlacePiece = 32 << 10
    /// What a kept piece counts against the window at least: the network buffer it pins.
    static let pinnedPerKeptPiece = 64 << 10
    /// Queued runs this short ahead of a longer one (the block joining two network buffers) are
    /// hashed alone before the pass instead of taking a pass of their own.
    static let leadBlocks = 4
    /// Slice of every wait: each one re-checks its condition (and so can never hang on a lost wakeup).
    static let waitSliceMilliseconds = 100
    /// The worker exits after this long with nothing to do; the next busy stream starts it again.
    static let idleMilliseconds = 200

    private let monitor = Monitor()
    /// Signalled when a stream has blocks for the worker.
    private let workReady = Monitor.Condition()
    /// Broadcast when the worker has consumed blocks or released a stream.
    private let progress = Monitor.Condition()
    // Guarded by `monitor`:
    private var streams: [LaneState] = []
    private var workerRunning = false
    private var nextStart = 0
    private let workerQueue = DispatchQueue(label: "depot.md5.multibuffer")

    public init(kernel: MD5Kernel = .best, window: Int = 1 << 20, minimumKernelLanes: Int? = nil) {
        self.kernel = kernel.isSupported ? kernel : .scalar
        self.window = max(Self.stagingCapacity, window / 64 * 64)
        // The scalar kernel (a CPU without AVX2) never beats OpenSSL: every pass then goes to OpenSSL.
        let kernelPays = self.kernel != .scalar && depot_md5_kernels_optimized() != 0
        self.minimumKernelLanes = minimumKernelLanes ?? (kernelPays ? 2 : Int.max)
    }

    /// A new stream, for one upload.
    public func makeStream() -> MD5Stream { MD5Stream(service: self) }

    // MARK: Writers

    /// Hands `bytes` to the stream. With an `owner` (an object keeping the bytes valid and
    /// unchanged while it lives: the network buffer they arrived in) a large piece's whole blocks
    /// are hashed where they are; everything else is copied into the stream's staging buffer.
    func write(_ lane: LaneState, _ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)?) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        lane.written += bytes.count
        guard let owner, bytes.count >= Self.smallestInPlacePiece else {
            stage(lane, bytes)
            return
        }
        // The staged partial block is completed from the piece's first bytes and handed over with
        // whatever whole blocks the staging holds; the piece's blocks after it go as they are, and
        // its last partial block starts the next staging.
        let partial = lane.staged.map { $0.count % 64 } ?? 0
        let fill = partial == 0 ? 0 : 64 - partial
        if fill > 0 { lane.staged!.append(UnsafeRawBufferPointer(rebasing: bytes[0..<fill])) }
        handOverStaged(lane)
        let blocks = (bytes.count - fill) / 64
        if blocks > 0 {
            let holder = owner()
            enqueue(
                lane,
                Segment(
                    owner: holder, base: source + fill, blocks: blocks, pins: max(bytes.count, Self.pinnedPerKeptPiece)))
        }
        let rest = fill + blocks * 64
        if rest < bytes.count { stage(lane, UnsafeRawBufferPointer(rebasing: bytes[rest...])) }
    }

    /// Copies into the staging buffer; hands its whole blocks over once it is full.
    private func stage(_ lane: LaneState, _ bytes: UnsafeRawBufferPointer) {
        var offset = 0
        while offset < bytes.count {
            if lane.staged == nil { lane.staged = StagedBytes(capacity: Self.stagingCapacity) }
            let staged = lane.staged!
            let count = min(bytes.count - offset, staged.capacity - staged.count)
            staged.append(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + count]))
            offset += count
            if staged.count == staged.capacity { handOverStaged(lane) }
        }
    }

    /// Queues the staging buffer's whole blocks for the worker; a partial block left over moves
    /// to a fresh staging buffer (the queued one is the worker's to read from now on).
    private func handOverStaged(_ lane: LaneState) {
        guard let staged = lane.staged, staged.count >= 64 else { return }
        let blocks = staged.count / 64
        let rest = staged.count - blocks * 64
        lane.staged = nil
        if rest > 0 {
            let next = StagedBytes(capacity: Self.stagingCapacity)
            next.append(UnsafeRawBufferPointer(start: staged.bytes + blocks * 64, count: rest))
            lane.staged = next
        }
        enqueue(lane, Segment(owner: staged, base: UnsafeRawPointer(staged.bytes), blocks: blocks, pins: blocks * 64))
    }

    /// Adds a run of whole blocks to the stream's queue, waiting while the stream already holds
    /// `window` bytes (backpressure: memory per upload stays bounded).
    private func enqueue(_ lane: LaneState, _ segment: Segment) {
        monitor.lock()
        if !lane.registered {
            lane.registered = true
            streams.append(lane)
        }
        while lane.pinned > 0 && lane.pinned + segment.pins > window {
            wakeWorker()
            progress.wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
        lane.segments.append(segment)
        lane.queuedBlocks += segment.blocks
        lane.pinned += segment.pins
        if lane.queuedBlocks * 64 >= Self.wakeThreshold { wakeWorker() }
        monitor.unlock()
    }

    /// Hashes what the stream still holds on the caller's thread and returns the digest.
    func finish(_ lane: LaneState) -> [UInt8] {
        monitor.lock()
        // A big remainder is left to the worker while it runs (it hashes it in lanes, beside other
        // streams); the last pass's worth, and everything when the worker is idle, is done here.
        while lane.claimed || (workerRunning && lane.queuedBlocks * 64 >= Self.wakeThreshold) {
            workReady.signal()
            progress.wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
        lane.claimed = true
        let segments = lane.segments
        monitor.unlock()
        for segment in segments {
            hashAlone(lane, from: segment.base + segment.consumed * 64, blocks: segment.blocks - segment.consumed)
        }
        let staged = lane.staged
        let stagedBlocks = (staged?.count ?? 0) / 64
        if let staged, stagedBlocks > 0 { hashAlone(lane, from: UnsafeRawPointer(staged.bytes), blocks: stagedBlocks) }
        let digest = MD5Kernel.finish(
            state: lane.state, tail: staged.map { UnsafeRawPointer($0.bytes) + stagedBlocks * 64 },
            tailLength: (staged?.count ?? 0) - stagedBlocks * 64, totalLength: lane.written)
        monitor.lock()
        unregister(lane)
        monitor.unlock()
        lane.reset()
        return digest
    }

    /// An abandoned stream (an upload cut off before its end): waits until the worker is off it.
    func release(_ lane: LaneState) {
        monitor.lock()
        while lane.claimed { progress.wait(monitor, milliseconds: Self.waitSliceMilliseconds) }
        unregister(lane)
        monitor.unlock()
    }

    /// Called with the lock held.
    private func unregister(_ lane: LaneState) {
        if lane.registered {
            lane.registered = false
            streams.removeAll { $0 === lane }
        }
        lane.claimed = false
        progress.broadcast()
    }

    private func hashAlone(_ lane: LaneState, from data: UnsafeRawPointer, blocks: Int) {
        guard blocks > 0 else { return }
        if minimumKernelLanes > 1 {
            depot_openssl_md5_blocks(lane.state, data, blocks)
        } else {
            var pointer: UnsafePointer<UInt8>? = data.assumingMemoryBound(to: UInt8.self)
            var count = blocks
            kernel.run(states: lane.state, data: &pointer, blocks: &count, lanes: 1)
        }
    }

    // MARK: The worker

    /// Called with the lock held.
    private func wakeWorker() {
        if workerRunning {
            workReady.signal()
        } else {
            workerRunning = true
            workerQueue.async { self.runWorker() }
        }
    }

    private struct Claim {
        let lane: LaneState
        /// Short runs ahead of the main one (the block that joined two pieces), hashed alone first.
        let lead: [(UnsafeRawPointer, Int)]
        let leadSegments: Int
        let data: UnsafeRawPointer
        let blocks: Int
    }

    /// Claims the streams for the next pass, taking turns. With at least `minimumKernelLanes`
    /// streams holding whole blocks, up to 16 of them go through the kernel together. With fewer,
    /// only streams holding `wakeThreshold` bytes are taken (through OpenSSL, one after another):
    /// the others wait to share a later pass, since hashing each small remainder alone would
    /// forgo the lanes. Nothing waits for ever: a writer's full window and a `finalize` waiting
    /// on the worker are above the threshold, and smaller remainders are hashed by `finalize`.
    /// Each lane's pass covers one queued run (a network buffer's blocks, or a staging buffer's);
    /// the single block that joins two network buffers is hashed alone just before, so it does
    /// not cost its lane a whole pass. Called with the lock held.
    private func claimBatch() -> [Claim] {
        let count = streams.count
        guard count > 0 else { return [] }
        var ready: [LaneState] = []
        for step in 0..<count where ready.count < Int(DEPOT_MD5_MAX_LANES) {
            let lane = streams[(nextStart + step) % count]
            // Claimed first: a claimed stream's queue head may be moving under its claimer.
            if !lane.claimed, lane.queuedBlocks > 0 { ready.append(lane) }
        }
        nextStart = (nextStart + 1) % count
        let kernelPass = ready.count >= minimumKernelLanes
        if !kernelPass { ready.removeAll { $0.queuedBlocks * 64 < Self.wakeThreshold } }
        return ready.map { lane in
            // A lane alone in OpenSSL has no partners to keep waiting: it takes all it can.
            let limit = kernelPass ? Self.blocksPerPass : 16 * Self.blocksPerPass
            var lead: [(UnsafeRawPointer, Int)] = []
            var index = 0
            while index + 1 < lane.segments.count, lane.segments[index].remaining <= Self.leadBlocks {
                let segment = lane.segments[index]
                lead.append((segment.base + segment.consumed * 64, segment.remaining))
                index += 1
            }
            let main = lane.segments[index]
            lane.claimed = true
            return Claim(
                lane: lane, lead: lead, leadSegments: index, data: main.base + main.consumed * 64,
                blocks: min(main.remaining, limit))
        }
    }

    private func runWorker() {
        let lanes = Int(DEPOT_MD5_MAX_LANES)
        let states = UnsafeMutablePointer<UInt32>.allocate(capacity: 4 * lanes)
        let data = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: lanes)
        let blocks = UnsafeMutablePointer<Int>.allocate(capacity: lanes)
        defer {
            states.deallocate()
            data.deallocate()
            blocks.deallocate()
        }
        monitor.lock()
        while true {
            let batch = claimBatch()
            if batch.isEmpty {
                if !workReady.wait(monitor, milliseconds: Self.idleMilliseconds), claimBatch().isEmpty {
                    workerRunning = false
                    monitor.unlock()
                    return
                }
                continue
            }
            monitor.unlock()
            for claim in batch {
                for (start, count) in claim.lead { hashAlone(claim.lane, from: start, blocks: count) }
            }
            if batch.count < minimumKernelLanes {
                for claim in batch { hashAlone(claim.lane, from: claim.data, blocks: claim.blocks) }
            } else {
                for (index, claim) in batch.enumerated() {
                    (states + 4 * index).update(from: claim.lane.state, count: 4)
                    data[index] = claim.data.assumingMemoryBound(to: UInt8.self)
                    blocks[index] = claim.blocks
                }
                kernel.run(states: states, data: data, blocks: blocks, lanes: batch.count)
                for (index, claim) in batch.enumerated() {
                    claim.lane.state.update(from: states + 4 * index, count: 4)
                }
            }
            // Owners of finished runs are released after the lock (a network buffer's release
            // may free memory): collected here, dropped at the end of the iteration.
            var finished: [Segment] = []
            monitor.lock()
            for claim in batch {
                claim.lane.consume(leadSegments: claim.leadSegments, blocks: claim.blocks, into: &finished)
                claim.lane.claimed = false
            }
            progress.broadcast()
            monitor.unlock()
            finished.removeAll()
            monitor.lock()
        }
    }
}

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

/// One stream's bytes and state. `segments`, `queuedBlocks`, `pinned`, `claimed` and
/// `registered` are guarded by the service's lock; `state` belongs to whoever claimed the stream;
/// `staged` and `written` to the stream's writer.
final class LaneState: @unchecked Sendable {
    var segments: [Segment] = []
    var queuedBlocks = 0
    var pinned = 0
    var staged: StagedBytes?
    /// Bytes written since the stream began.
    var written = 0
    var claimed = false
    var registered = false
    let state = UnsafeMutablePointer<UInt32>.allocate(capacity: 4)

    init() { depot_md5_init_state(state) }

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
        depot_md5_init_state(state)
    }
}

/// One upload's MD5 through the shared service: the contract of `StreamingDigest` (`update`
/// pieces of any size, then `finalize`), used by one caller at a time. `update` may wait for the
/// service when the stream's window is full. Dropping a stream without finalizing it is fine.
public final class MD5Stream: @unchecked Sendable {
    private let service: MultiBufferMD5
    private let lane = LaneState()

    init(service: MultiBufferMD5) { self.service = service }

    deinit { service.release(lane) }

    public func update(_ bytes: UnsafeRawBufferPointer) { service.write(lane, bytes, owner: nil) }

    /// `owner` returns an object that keeps `bytes` valid and unchanged while it lives (the
    /// network buffer they are in): a large piece is then hashed in place instead of copied.
    public func update(_ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)?) {
        service.write(lane, bytes, owner: owner)
    }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 16-byte MD5 of everything written; the stream is then empty again, ready for reuse.
    public func finalize() -> [UInt8] { service.finish(lane) }
}
