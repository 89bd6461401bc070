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
/// Each upload holds an `MD5Stream`. Its `update` copies the bytes into the stream's ring (at
/// most `window` bytes, so memory per upload is bounded and a writer the hashing falls behind is
/// held back); one worker thread takes the whole 64-byte blocks waiting in up to 16 rings and runs
/// them through the kernel in one pass. Streams with nothing waiting simply sit out a pass, and
/// streams that end at different times never wait for each other: `finalize` hashes its own last
/// blocks and the padded tail on the caller's thread. A block run that has a pass to itself goes
/// through OpenSSL, faster than one SIMD lane alone (`minimumKernelLanes`). Small uploads never wake the worker at all:
/// below `wakeThreshold` waiting bytes, `finalize` does everything on the caller's thread.
///
/// Measured (release, `swiftc -O` of this module with a driver in /tmp; writers feeding 64 MiB
/// each in 64 KiB pieces, on the 2-core AVX-512 machine at load 5-9 from parallel builds, so
/// ranges): MiB hashed per CPU-second of the whole process, writers' copies included.
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
    /// A stream's first ring; it grows to `window` once filled, so 4 KiB uploads stay cheap.
    static let firstRing = 64 << 10
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
        // Whole blocks only: a block then never wraps around the ring's end.
        self.window = max(Self.firstRing, window / 64 * 64)
        // The scalar kernel (a CPU without AVX2) never beats OpenSSL: every pass then goes to OpenSSL.
        let kernelPays = self.kernel != .scalar && depot_md5_kernels_optimized() != 0
        self.minimumKernelLanes = minimumKernelLanes ?? (kernelPays ? 2 : Int.max)
    }

    /// A new stream, for one upload.
    public func makeStream() -> MD5Stream { MD5Stream(service: self) }

    // MARK: Writers

    func write(_ lane: LaneState, _ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        var offset = 0
        monitor.lock()
        if !lane.registered {
            lane.registered = true
            streams.append(lane)
        }
        while offset < bytes.count {
            let waiting = lane.written - lane.consumed
            if waiting == lane.capacity {
                if lane.capacity < window && !lane.claimed {
                    grow(lane)
                    continue
                }
                // Full: the writer waits for the worker (backpressure).
                wakeWorker()
                progress.wait(monitor, milliseconds: Self.waitSliceMilliseconds)
                continue
            }
            let start = lane.written % lane.capacity
            let count = min(bytes.count - offset, lane.capacity - waiting, lane.capacity - start)
            let ring = lane.ring!
            // Copied without the lock: the worker only reads below `written`, and only this
            // writer moves `written`.
            monitor.unlock()
            (ring + start).copyMemory(from: source + offset, byteCount: count)
            monitor.lock()
            lane.written += count
            offset += count
        }
        if lane.written - lane.consumed >= Self.wakeThreshold { wakeWorker() }
        monitor.unlock()
    }

    /// Allocates the first ring, or replaces a full first ring by one of `window` bytes. Called
    /// with the lock held; the copy runs without it, with the stream claimed so the worker keeps off.
    private func grow(_ lane: LaneState) {
        let newCapacity = lane.capacity == 0 ? Self.firstRing : window
        let newRing = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 64)
        lane.claimed = true
        monitor.unlock()
        var position = lane.consumed
        while position < lane.written, let old = lane.ring {
            let from = position % lane.capacity
            let to = position % newCapacity
            let count = min(lane.written - position, lane.capacity - from, newCapacity - to)
            (newRing + to).copyMemory(from: old + from, byteCount: count)
            position += count
        }
        monitor.lock()
        lane.ring?.deallocate()
        lane.ring = newRing
        lane.capacity = newCapacity
        lane.claimed = false
    }

    /// Hashes what the stream still holds on the caller's thread and returns the digest.
    func finish(_ lane: LaneState) -> [UInt8] {
        monitor.lock()
        // A big remainder is left to the worker while it runs (it hashes it in lanes, beside other
        // streams); the last pass's worth, and everything when the worker is idle, is done here.
        while lane.claimed || (workerRunning && lane.written - lane.consumed >= Self.wakeThreshold) {
            workReady.signal()
            progress.wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
        lane.claimed = true
        monitor.unlock()
        while lane.written - lane.consumed >= 64 {
            let start = lane.consumed % lane.capacity
            let blocks = min((lane.written - lane.consumed) / 64, (lane.capacity - start) / 64)
            hashAlone(lane, from: lane.ring! + start, blocks: blocks)
            lane.consumed += blocks * 64
        }
        let tailLength = lane.written - lane.consumed
        let digest = MD5Kernel.finish(
            state: lane.state, tail: lane.ring.map { $0 + lane.consumed % lane.capacity }, tailLength: tailLength,
            totalLength: lane.written)
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

    private func hashAlone(_ lane: LaneState, from data: UnsafeMutableRawPointer, blocks: Int) {
        if minimumKernelLanes > 1 {
            depot_openssl_md5_blocks(lane.state, data, blocks)
        } else {
            var pointer: UnsafePointer<UInt8>? = UnsafePointer(data.assumingMemoryBound(to: UInt8.self))
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
        let data: UnsafeMutableRawPointer
        let blocks: Int
    }

    /// Claims the streams for the next pass, taking turns. With at least `minimumKernelLanes`
    /// streams holding whole blocks, up to 16 of them go through the kernel together. With fewer,
    /// only streams holding `wakeThreshold` bytes are taken (through OpenSSL, one after another):
    /// the others wait to share a later pass, since hashing each small remainder alone would
    /// forgo the lanes. Nothing waits for ever: a writer's full window and a `finalize` waiting
    /// on the worker are above the threshold, and smaller remainders are hashed by `finalize`.
    /// Called with the lock held.
    private func claimBatch() -> [Claim] {
        let count = streams.count
        guard count > 0 else { return [] }
        var ready: [LaneState] = []
        for step in 0..<count where ready.count < Int(DEPOT_MD5_MAX_LANES) {
            let lane = streams[(nextStart + step) % count]
            // Claimed first: a claimed stream's `consumed` may be moving under its claimer.
            if !lane.claimed, lane.written - lane.consumed >= 64 { ready.append(lane) }
        }
        nextStart = (nextStart + 1) % count
        let kernelPass = ready.count >= minimumKernelLanes
        if !kernelPass { ready.removeAll { $0.written - $0.consumed < Self.wakeThreshold } }
        return ready.map { lane in
            let start = lane.consumed % lane.capacity
            // A lane alone in OpenSSL has no partners to keep waiting: it takes all it can.
            let limit = kernelPass ? Self.blocksPerPass : 16 * Self.blocksPerPass
            let blocks = min((lane.written - lane.consumed) / 64, (lane.capacity - start) / 64, limit)
            lane.claimed = true
            return Claim(lane: lane, data: lane.ring! + start, blocks: blocks)
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
            if batch.count < minimumKernelLanes {
                for claim in batch { hashAlone(claim.lane, from: claim.data, blocks: claim.blocks) }
            } else {
                for (index, claim) in batch.enumerated() {
                    (states + 4 * index).update(from: claim.lane.state, count: 4)
                    data[index] = UnsafePointer(claim.data.assumingMemoryBound(to: UInt8.self))
                    blocks[index] = claim.blocks
                }
                kernel.run(states: states, data: data, blocks: blocks, lanes: batch.count)
                for (index, claim) in batch.enumerated() {
                    claim.lane.state.update(from: states + 4 * index, count: 4)
                }
            }
            monitor.lock()
            for claim in batch {
                claim.lane.consumed += claim.blocks * 64
                claim.lane.claimed = false
            }
            progress.broadcast()
        }
    }
}

/// One stream's bytes and state. `written`, `consumed`, `claimed`, `registered`, `ring` and
/// `capacity` are guarded by the service's lock; `state` and the ring's bytes below `written`
/// belong to whoever claimed the stream.
final class LaneState: @unchecked Sendable {
    var ring: UnsafeMutableRawPointer?
    var capacity = 0
    /// Bytes written and bytes hashed since the stream began; `consumed` is a multiple of 64.
    var written = 0
    var consumed = 0
    var claimed = false
    var registered = false
    let state = UnsafeMutablePointer<UInt32>.allocate(capacity: 4)

    init() { depot_md5_init_state(state) }

    deinit {
        ring?.deallocate()
        state.deallocate()
    }

    /// Back to an empty stream, its ring returned. Called only once the service no longer sees it.
    func reset() {
        ring?.deallocate()
        ring = nil
        capacity = 0
        written = 0
        consumed = 0
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

    public func update(_ bytes: UnsafeRawBufferPointer) { service.write(lane, bytes) }

    public func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }

    /// The 16-byte MD5 of everything written; the stream is then empty again, ready for reuse.
    public func finalize() -> [UInt8] { service.finish(lane) }
}
