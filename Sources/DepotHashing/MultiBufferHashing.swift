import CDepotChecksums
import COpenSSL
import Dispatch

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// One hashing service that many concurrent uploads feed, so that their hashes are computed side
/// by side in SIMD lanes: each upload's MD5 (the S3 ETag, `MD5Kernel`) and the SHA-256 of each of
/// its chunks (the content address, `SHA256Kernel`). 16 cameras uploading together cost about what
/// one did before.
///
/// Each stream (an upload's MD5, or its current chunk's SHA-256) is a `HashStream`. Its `update`
/// queues the piece's whole 64-byte blocks for the worker where they are, holding the network
/// buffer they arrived in (pieces of 32 KiB or more with an owner), or copies small pieces into a
/// staging buffer that is queued once full; a stream holds at most `window` bytes queued, so
/// memory per upload is bounded and a writer the hashing falls behind is held back. One worker
/// thread takes the blocks waiting in up to 16 streams of each function and runs them through the
/// kernels in one pass: the SHA-256 lanes first (a chunk's end waits for them), then the MD5
/// lanes, which are mostly the same uploads' same network buffers, so the second function reads
/// them from cache. Streams with nothing waiting simply sit out a pass, and streams that end at
/// different times never wait for each other: `finalize` hashes its own last blocks and the padded tail on the caller's thread. A
/// function's block runs that have a pass to themselves go through OpenSSL, faster than one SIMD
/// lane alone (`LaneFunction.minimumKernelLanes`). Small streams never wake the worker at all:
/// below `wakeThreshold` waiting bytes, `finalize` does everything on the caller's thread.
///
/// A chunk's address is needed before the chunk is written (the deduplication lookup), so the
/// ingest waits in `finalize` for the worker's pass over its chunk when one is under way; the MD5
/// is only needed at the end of the upload. A waiting stream is taken first by the next pass, and
/// each pass gives its SHA-256 streams back before it runs the MD5 lanes.
///
/// Why the chunk addresses too: SHA-256 was a third of a 32 MiB PUT's server CPU (OpenSSL's SHA-NI
/// on each writer's thread). Measured (release, 8 streams, interleaved, load 1-4; Benchmarks/
/// RESULTS-NOTES.md "Chunk addresses in the multi-buffer service"), server CPU-s/GiB, medians:
/// 32 MiB PUT 3.19 on the writer's thread, 3.02 through this service with OpenSSL per lane, 2.87
/// with the kernels (-10%); 1 MiB PUT 3.85, 3.72, 3.65 (-5%). The price was latency: a chunk's end
/// waited 3-4 ms on average for the worker, behind by several passes (on a busy machine one
/// thread gets one thread's share of the CPU). A `finalize` that would wait now runs those passes
/// itself, the same kernel passes over the same lanes: 1.1-1.3 ms per 32 MiB PUT chunk end and
/// 0.8 ms per 1 MiB PUT, CPU per GiB level (RESULTS-NOTES "Chunk ends run the passes they wait for").
///
/// Measured (release, `swiftc -O` of this module with a driver in /tmp; writers feeding 64 MiB
/// each in 64 KiB pieces, on the 2-core AVX-512 machine at load 5-9 from parallel builds, so
/// ranges): MiB of MD5 hashed per CPU-second of the whole process, writers' copies included.
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
public final class MultiBufferHashing: @unchecked Sendable {
    /// The service of the process: every upload's ETag and every chunk's address.
    public static let shared = MultiBufferHashing(
        md5MinimumKernelLanes: environmentMinimumKernelLanes("DEPOT_MD5_KERNEL_MIN_LANES"),
        sha256MinimumKernelLanes: environmentMinimumKernelLanes("DEPOT_SHA256_KERNEL_MIN_LANES"))

    /// Test hooks: `DEPOT_MD5_KERNEL_MIN_LANES=1` and `DEPOT_SHA256_KERNEL_MIN_LANES=1` make a
    /// server run the SIMD kernels on every pass, so integration tests (debug builds, where the
    /// default leaves every pass to OpenSSL) check the ETags and chunk addresses they compute.
    static func environmentMinimumKernelLanes(_ name: String) -> Int? {
        getenv(name).flatMap { Int(String(cString: $0)) }.map { max(1, $0) }
    }

    /// The functions, by `LaneFunction.Kind` raw value.
    let functions: [LaneFunction]
    /// Bytes a stream may hold unhashed before its writer waits.
    let window: Int
    /// The worker is woken once a SHA-256 stream has this much waiting: below it, handing the
    /// bytes over would cost more than hashing them on the caller's thread at `finalize`. MD5
    /// streams wake it only when they must be hashed without company (`waitsForCompany`).
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
    /// Broadcast when the worker has consumed blocks or released a stream, one per function (by
    /// `LaneFunction.Kind` raw value): a pass gives back each function's streams apart, and the
    /// writers waiting on the other function's streams need not wake for it.
    private let progress = LaneFunction.Kind.allCases.map { _ in Monitor.Condition() }
    // Guarded by `monitor`:
    private var streams: [LaneState] = []
    private var workerRunning = false
    private var nextStart = 0
    private var waitReport = FinishWaitReport.fromEnvironment()
    private let workerQueue = DispatchQueue(label: "depot.hashing.multibuffer")

    /// `md5Kernel` and `sha256Kernel` force one kernel on every kernel pass of their function
    /// (tests); by default each pass runs the one measured fastest for its number of streams. A
    /// minimum of 1 runs the kernel on every pass (tests); nil takes the function's default.
    public init(
        md5Kernel: MD5Kernel? = nil, sha256Kernel: SHA256Kernel? = nil, window: Int = 1 << 20,
        md5MinimumKernelLanes: Int? = nil, sha256MinimumKernelLanes: Int? = nil
    ) {
        functions = LaneFunction.Kind.allCases.map { kind in
            switch kind {
            case .md5: return .md5(kernel: md5Kernel, minimumKernelLanes: md5MinimumKernelLanes)
            case .sha256: return .sha256(forced: sha256Kernel, minimumKernelLanes: sha256MinimumKernelLanes)
            }
        }
        self.window = max(Self.stagingCapacity, window / 64 * 64)
    }

    /// A new MD5 stream, for one upload's ETag.
    public func makeMD5Stream() -> HashStream { HashStream(service: self, function: functions[LaneFunction.Kind.md5.rawValue]) }

    /// A new SHA-256 stream, for the content addresses of one upload's chunks (one after another).
    public func makeSHA256Stream() -> HashStream {
        HashStream(service: self, function: functions[LaneFunction.Kind.sha256.rawValue])
    }

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
    ///
    /// A writer held back runs passes itself while the worker is not on its stream, as `finish`
    /// does, instead of sleeping: perf of 8 x 32 MiB PUTs found both event-loop threads asleep
    /// here at times, waiting for a worker that had only one of the two cores, and the machine
    /// 7% idle (`perf sched timehist`) while the upload was bound by CPU.
    private func enqueue(_ lane: LaneState, _ segment: Segment) {
        monitor.lock()
        if !lane.registered {
            lane.registered = true
            streams.append(lane)
        }
        var scratch: PassScratch?
        while lane.pinned > 0 && lane.pinned + segment.pins > window {
            lane.waiting = true
            if !lane.claimed, runPassInstead(of: lane, &scratch) { continue }
            wakeWorker()
            progress[lane.function.kind.rawValue].wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
        lane.waiting = false
        lane.segments.append(segment)
        lane.queuedBlocks += segment.blocks
        lane.pinned += segment.pins
        if lane.function.kind == .md5 ? mustHashWithoutCompany(lane) : lane.queuedBlocks * 64 >= Self.wakeThreshold {
            wakeWorker()
        }
        monitor.unlock()
    }

    /// Hashes what the stream still holds on the caller's thread and returns the digest.
    func finish(_ lane: LaneState) -> [UInt8] {
        monitor.lock()
        let reporting = waitReport.isOn && lane.function.kind == .sha256
        let waitStart = reporting ? FinishWaitReport.now() : 0
        // A big remainder is hashed in lanes, beside other streams, while the worker runs; the last
        // pass's worth, and everything when the worker is idle, alone here. The lane passes are run
        // by this thread rather than waited for (the worker may be several passes behind, and on a
        // busy machine not even on a CPU): the same kernel passes over its stream, taken first as
        // `waiting`, and the other streams of its function, so the CPU per byte stays the worker's.
        // It waits only while the worker holds the stream.
        var scratch: PassScratch?
        var passesRun = 0
        while lane.claimed || (workerRunning && lane.queuedBlocks * 64 >= Self.wakeThreshold) {
            lane.waiting = true
            if !lane.claimed, runPassInstead(of: lane, &scratch) {
                passesRun += 1
                continue
            }
            workReady.signal()
            progress[lane.function.kind.rawValue].wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
        lane.waiting = false
        lane.claimed = true
        let segments = lane.segments
        let line =
            reporting
            ? waitReport.note(waitedNanoseconds: FinishWaitReport.now() - waitStart, passesRun: passesRun) : nil
        monitor.unlock()
        if let line { FinishWaitReport.emit(line) }
        for segment in segments {
            hashAlone(lane, from: segment.base + segment.consumed * 64, blocks: segment.blocks - segment.consumed)
        }
        let staged = lane.staged
        let stagedBlocks = (staged?.count ?? 0) / 64
        if let staged, stagedBlocks > 0 { hashAlone(lane, from: UnsafeRawPointer(staged.bytes), blocks: stagedBlocks) }
        let digest = lane.function.finish(
            lane.state, staged.map { UnsafeRawPointer($0.bytes) + stagedBlocks * 64 },
            (staged?.count ?? 0) - stagedBlocks * 64, lane.written)
        monitor.lock()
        unregister(lane)
        monitor.unlock()
        lane.reset()
        return digest
    }

    /// An abandoned stream (an upload cut off before its end): waits until the worker is off it.
    func release(_ lane: LaneState) {
        monitor.lock()
        while lane.claimed {
            progress[lane.function.kind.rawValue].wait(monitor, milliseconds: Self.waitSliceMilliseconds)
        }
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
        progress[lane.function.kind.rawValue].broadcast()
    }

    private func hashAlone(_ lane: LaneState, from data: UnsafeRawPointer, blocks: Int) {
        lane.function.hashAlone(lane.state, from: data, blocks: blocks)
    }

    // MARK: The worker

    /// Runs a pass over `lane`'s function on the caller's thread instead of waiting for the worker
    /// to: false when it finds no stream to claim. Called with the lock held.
    private func runPassInstead(of lane: LaneState, _ scratch: inout PassScratch?) -> Bool {
        let batch = claimBatch(only: lane.function.kind)
        guard batch.contains(where: { !$0.isEmpty }) else { return false }
        if scratch == nil { scratch = PassScratch(lanes: Self.mostLanes) }
        runPass(batch, scratch!)
        return true
    }

    /// Called with the lock held.
    private func wakeWorker() {
        if workerRunning {
            workReady.signal()
        } else {
            workerRunning = true
            if !workerHeldForTests { workerQueue.async { self.runWorker() } }
        }
    }

    /// Tests: the worker counts as running but never gets a CPU (a machine too busy to schedule it).
    var workerHeldForTests = false

    private struct Claim {
        let lane: LaneState
        /// Short runs ahead of the main one (the block that joined two pieces), hashed alone first.
        let lead: [(UnsafeRawPointer, Int)]
        let leadSegments: Int
        let data: UnsafeRawPointer
        let blocks: Int
    }

    /// Claims the streams for the next pass, taking turns, for each function apart. With at least
    /// the function's `minimumKernelLanes` streams holding whole blocks, up to 16 of them go
    /// through its kernel together. With fewer, only streams holding `wakeThreshold` bytes are
    /// taken (through OpenSSL, one after another): the others wait to share a later pass, since
    /// hashing each small remainder alone would forgo the lanes. Nothing waits for ever: a
    /// writer's full window and a `finalize` waiting on the worker are above the threshold, and
    /// smaller remainders are hashed by `finalize`. Each lane's pass covers one queued run (a
    /// network buffer's blocks, or a staging buffer's); the single block that joins two network
    /// buffers is hashed alone just before, so it does not cost its lane a whole pass. Returns the
    /// claims of each function, by `LaneFunction.Kind` raw value. Called with the lock held.
    private func claimBatch(only: LaneFunction.Kind? = nil) -> [[Claim]] {
        let count = streams.count
        guard count > 0 else { return [] }
        let ready = Self.passCandidates(streams, from: nextStart, kinds: functions.count, most: Self.mostLanes)
        nextStart = (nextStart + 1) % count
        return functions.map { function in
            guard only == nil || only == function.kind else { return [] }
            var lanes = ready[function.kind.rawValue]
            if only == nil, function.kind == .md5, waitsForCompany(lanes) { return [] }
            let kernelPass = lanes.count >= function.minimumKernelLanes
            if !kernelPass { lanes.removeAll { $0.queuedBlocks * 64 < Self.wakeThreshold } }
            return lanes.map { lane in
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
    }

    /// True when the worker should leave these MD5 streams for a later pass that more of them
    /// share. An MD5 pass costs the same time with 1 or 8 streams in the 8-lane kernel (each step
    /// waits on its own chain, 4 cycles on Zen 4), and nobody waits for an upload's MD5 before its
    /// end (`finish` then hashes what is left, running passes itself), so its streams wait for
    /// company: a pass runs when every MD5 stream of the service (up to a pass's worth) has
    /// blocks, or when one of them must go now (`mustHashWithoutCompany`). Measured under 8 x 32
    /// MiB PUTs: 4.4 streams per MD5 pass before (64 KiB each), 6.2 with this. Only the worker
    /// waits; a writer or a `finish` running a pass instead of sleeping takes what there is.
    /// Called with the lock held.
    private func waitsForCompany(_ candidates: [LaneState]) -> Bool {
        let md5Streams = streams.reduce(0) { $0 + ($1.function.kind == .md5 ? 1 : 0) }
        return Self.waitsForCompany(candidates, md5Streams: md5Streams, mustGo: mustHashWithoutCompany)
    }

    static func waitsForCompany(_ candidates: [LaneState], md5Streams: Int, mustGo: (LaneState) -> Bool) -> Bool {
        !candidates.isEmpty && candidates.count < min(mostLanes, md5Streams) && !candidates.contains(where: mustGo)
    }

    /// An MD5 stream the worker hashes even without company: its writer or `finish` waits for it,
    /// or it holds half its window (so a writer is never held back by the wait for company, and
    /// memory per upload stays what the window allows). Called with the lock held.
    private func mustHashWithoutCompany(_ lane: LaneState) -> Bool { lane.waiting || lane.pinned * 2 >= window }

    /// The streams the next pass may take for each function (by `LaneFunction.Kind` raw value),
    /// at most `most` of each: streams whose `finalize` waits for the worker first, then the
    /// others in turns from `start`. Claimed streams (their queue head may be moving under their
    /// claimer) and streams without whole blocks sit out. Called with the lock held.
    static func passCandidates(_ streams: [LaneState], from start: Int, kinds: Int, most: Int) -> [[LaneState]] {
        var ready: [[LaneState]] = Array(repeating: [], count: kinds)
        for waitingOnes in [true, false] {
            for step in 0..<streams.count {
                let lane = streams[(start + step) % streams.count]
                let kind = lane.function.kind.rawValue
                if lane.waiting == waitingOnes, !lane.claimed, lane.queuedBlocks > 0, ready[kind].count < most {
                    ready[kind].append(lane)
                }
            }
        }
        return ready
    }

    /// The order of the functions in a pass: SHA-256 first, since a chunk's end waits for its
    /// address (the dedup lookup needs it) while the ETag's MD5 is needed only at the upload's end.
    static let passOrder: [LaneFunction.Kind] = [.sha256, .md5]

    /// Streams of one function a pass takes at most.
    static let mostLanes = Int(min(DEPOT_MD5_MAX_LANES, DEPOT_SHA256_MAX_LANES))

    private func runWorker() {
        let scratch = PassScratch(lanes: Self.mostLanes)
        monitor.lock()
        while true {
            var batch = claimBatch()
            if batch.allSatisfy(\.isEmpty) {
                if workReady.wait(monitor, milliseconds: Self.idleMilliseconds) { continue }
                // Idle for a while: one more look, and the claims it makes are run (dropping them
                // left their streams claimed for ever, and their `finalize` waiting with them).
                batch = claimBatch()
                if batch.allSatisfy(\.isEmpty) {
                    workerRunning = false
                    monitor.unlock()
                    return
                }
            }
            runPass(batch, scratch)
        }
    }

    /// Runs a pass over the claimed streams, SHA-256 first, then MD5 over (mostly) the same network
    /// buffers, still in cache. Each function's streams are given back as soon as its lanes are
    /// done, so a chunk's end waiting for its address does not wait for the MD5 lanes as well.
    /// Called with the lock held, which it releases meanwhile.
    private func runPass(_ batch: [[Claim]], _ scratch: PassScratch) {
        monitor.unlock()
        for kind in Self.passOrder where batch.indices.contains(kind.rawValue) {
            let claims = batch[kind.rawValue]
            guard !claims.isEmpty else { continue }
            run(functions[kind.rawValue], claims, scratch)
            // Owners of finished runs are released after the lock (a network buffer's release
            // may free memory): collected here, dropped after the unlock.
            var finished: [Segment] = []
            monitor.lock()
            for claim in claims {
                claim.lane.consume(leadSegments: claim.leadSegments, blocks: claim.blocks, into: &finished)
                claim.lane.claimed = false
            }
            progress[kind.rawValue].broadcast()
            monitor.unlock()
            finished.removeAll()
        }
        monitor.lock()
    }

    /// Runs one function's claims of a pass: their short lead runs alone, then their main runs
    /// through the function's kernel together (or one after another through OpenSSL when too
    /// few streams share the pass for the kernel to pay).
    private func run(_ function: LaneFunction, _ claims: [Claim], _ scratch: PassScratch) {
        let (states, data, blocks) = (scratch.states, scratch.data, scratch.blocks)
        for claim in claims {
            for (start, count) in claim.lead { hashAlone(claim.lane, from: start, blocks: count) }
        }
        if claims.count < function.minimumKernelLanes {
            for claim in claims { hashAlone(claim.lane, from: claim.data, blocks: claim.blocks) }
            return
        }
        let words = function.stateWords
        for (index, claim) in claims.enumerated() {
            (states + words * index).update(from: claim.lane.state, count: words)
            data[index] = claim.data.assumingMemoryBound(to: UInt8.self)
            blocks[index] = claim.blocks
        }
        function.kernel(states, data, blocks, claims.count)
        for (index, claim) in claims.enumerated() {
            claim.lane.state.update(from: states + words * index, count: words)
        }
    }
}
