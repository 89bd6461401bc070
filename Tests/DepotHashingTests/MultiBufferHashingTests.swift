import Dispatch
import Foundation
import Testing

@testable import DepotHashing

/// The shared multi-buffer service against OpenSSL, for each function it runs (an upload's MD5,
/// a chunk's SHA-256) and each kernel the CPU has: many streams fed at once in random pieces,
/// owned pieces hashed in place, streams ending at different times, writers on their own threads,
/// and an upload's MD5 and its chunks' SHA-256 fed the same buffers as the ingest does.
struct MultiBufferHashingTests {
    typealias Generator = MultiBufferMD5Tests.Generator

    /// One function through one kernel, run on every pass (minimum lanes 1) unless `everyPass` is
    /// off; each function also with the kernel chosen per pass for its number of lanes (`kernel`
    /// nil, the production default: `MD5Kernel.forLanes`, `SHA256Kernel.forLanes`).
    struct Case: Sendable, CustomStringConvertible {
        let sha256: Bool
        let kernel: Int32?

        static let all =
            MD5Kernel.allCases.filter(\.isSupported).map { Case(sha256: false, kernel: $0.rawValue) }
            + [Case(sha256: false, kernel: nil)]
            + SHA256Kernel.allCases.filter(\.isSupported).map { Case(sha256: true, kernel: $0.rawValue) }
            + [Case(sha256: true, kernel: nil)]

        var description: String {
            guard let kernel else { return "\(sha256 ? "sha256" : "md5") kernel for the pass's lanes" }
            return sha256 ? "sha256 \(SHA256Kernel(rawValue: kernel)!)" : "md5 \(MD5Kernel(rawValue: kernel)!)"
        }

        /// Seeds each case's inputs apart.
        var seed: UInt64 { UInt64(kernel.map { $0 + 1 } ?? 0) }

        func service(window: Int, everyPass: Bool = true) -> MultiBufferHashing {
            let minimum = everyPass ? 1 : nil
            return sha256
                ? MultiBufferHashing(
                    sha256Kernel: kernel.flatMap(SHA256Kernel.init(rawValue:)), window: window,
                    sha256MinimumKernelLanes: minimum)
                : MultiBufferHashing(
                    md5Kernel: kernel.flatMap(MD5Kernel.init(rawValue:)), window: window,
                    md5MinimumKernelLanes: minimum)
        }

        func stream(_ service: MultiBufferHashing) -> HashStream {
            sha256 ? service.makeSHA256Stream() : service.makeMD5Stream()
        }

        func expected(_ input: [UInt8]) -> [UInt8] {
            (sha256 ? DigestAlgorithm.sha256 : .md5).hash(input)
        }
    }

    @Test func sha256KnownAnswers() {
        // FIPS 180-4 examples, through the service's stream (OpenSSL and the kernel on every pass).
        for service in [MultiBufferHashing(window: 64 << 10), MultiBufferHashing(sha256MinimumKernelLanes: 1)] {
            let stream = service.makeSHA256Stream()
            #expect(Hex.encode(stream.finalize()) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
            stream.update(Array("abc".utf8))
            #expect(Hex.encode(stream.finalize()) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        }
    }

    /// Many streams interleaved on one thread in random pieces: the worker sees lanes come and go,
    /// windows fill (the writer waits), and streams end at different times.
    @Test(arguments: Case.all)
    func interleavedStreams(function: Case) async {
        await onOwnThread {
            var generator = Generator(state: 0x2545_F491_4F6C_DD1D &+ function.seed)
            // A small window so backpressure happens.
            let service = function.service(window: 128 << 10)
            let count = 20
            let lengths = (0..<count).map { index -> Int in
                switch index % 5 {
                case 0: return 0
                case 1: return MultiBufferMD5Tests.edgeLengths[generator.below(MultiBufferMD5Tests.edgeLengths.count)]
                case 2: return generator.below(2 << 20)
                case 3: return 64 * (1 + generator.below(8000))
                default: return generator.below(200_000)
                }
            }
            let inputs = lengths.map { generator.bytes($0) }
            let streams = (0..<count).map { _ in function.stream(service) }
            Self.feedInTurns(function, streams, inputs, &generator) { stream, bytes, generator in
                bytes.withUnsafeBytes { stream.update($0) }
            } pieceSize: {
                1 + $0.below(100_000)
            }
        }
    }

    /// Pieces handed over with an owner (the network buffer, in a server) are hashed where they
    /// are: large ones are queued in place and their owners held until hashed, small ones and
    /// pieces without an owner copied, the block joining two pieces copied too. Every digest
    /// matches OpenSSL's, and every owner is released once the streams are done.
    @Test(arguments: Case.all)
    func ownedPiecesHashedInPlace(function: Case) async {
        await onOwnThread {
            var generator = Generator(state: 0x94D0_49BB_1331_11EB &+ function.seed)
            let service = function.service(window: 256 << 10)
            let live = PieceCounter()
            let count = 10
            let inputs = (0..<count).map { index in generator.bytes(index == 0 ? 0 : generator.below(3 << 20)) }
            var streams = (0..<count).map { _ in function.stream(service) }
            Self.feedInTurns(function, streams, inputs, &generator) { stream, bytes, generator in
                let box = OwnedPiece(Array(bytes), counter: live)
                let withOwner = generator.below(5) != 0
                box.bytes.withUnsafeBytes { bytes in
                    stream.update(
                        bytes,
                        owner: withOwner
                            ? {
                                live.noteKept()
                                return box
                            } : nil)
                }
            } pieceSize: { generator in
                // Mostly network-sized pieces (some a multiple of 64 bytes), some tiny, some large.
                switch generator.below(4) {
                case 0: return 1 + generator.below(2000)
                case 1: return 64 * (1 + generator.below(2048))
                default: return 1 + generator.below(200_000)
                }
            }
            streams.removeAll()
            #expect(live.owned > 0, "no piece was kept in place")
            // The worker drops the owners of the runs it finished just after its last pass.
            for _ in 0..<200 where live.count > 0 { usleep(10_000) }
            #expect(live.count == 0, "owners still held after every stream finished")
        }
    }

    /// Feeds each stream its input in pieces, a random stream at a time, and checks each digest
    /// against OpenSSL's as its input ends (streams end at different times).
    static func feedInTurns(
        _ function: Case, _ streams: [HashStream], _ inputs: [[UInt8]], _ generator: inout Generator,
        feed: (HashStream, ArraySlice<UInt8>, inout Generator) -> Void, pieceSize: (inout Generator) -> Int
    ) {
        var offsets = [Int](repeating: 0, count: inputs.count)
        var open = Set(inputs.indices)
        while !open.isEmpty {
            let index = open.randomElement(using: &generator)!
            let piece = min(inputs[index].count - offsets[index], pieceSize(&generator))
            feed(streams[index], inputs[index][offsets[index]..<offsets[index] + piece], &generator)
            offsets[index] += piece
            if offsets[index] == inputs[index].count {
                open.remove(index)
                #expect(
                    streams[index].finalize() == function.expected(inputs[index]),
                    "\(function) stream \(index) length \(inputs[index].count)")
            }
        }
    }

    /// Uploads as the ingest feeds them, on threads of their own: each writer's network-sized
    /// owned pieces go to its upload's MD5 stream and, cut into chunks of random lengths, to its
    /// SHA-256 stream, which is finalized at every chunk end (reused for the next chunk) while
    /// the other writers go on. 16 writers, lengths from 0 to 6 MiB, so they end at different
    /// times; with every pass through the kernels (minimum lanes 1), with passes of fewer than
    /// three streams through OpenSSL (3), and with the production defaults (nil: in a debug build,
    /// OpenSSL on the worker for MD5 and on the writer's thread for SHA-256); some uploads are
    /// dropped unfinished. Every ETag and every chunk address equals OpenSSL's.
    @Test(arguments: [1, 3, nil] as [Int?])
    func uploadsFeedBothFunctions(minimumKernelLanes: Int?) async {
        let service = MultiBufferHashing(
            window: 256 << 10, md5MinimumKernelLanes: minimumKernelLanes, sha256MinimumKernelLanes: minimumKernelLanes)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<16 {
                group.addTask {
                    await onOwnThread {
                        var generator = Generator(state: 0x5851_F42D_4C95_7F2D &+ UInt64(writer))
                        let input = generator.bytes(writer == 0 ? 0 : generator.below(6 << 20))
                        let md5 = service.makeMD5Stream()
                        let sha256 = service.makeSHA256Stream()
                        var chunkStart = 0
                        var chunkEnd = min(input.count, 1 + generator.below(2 << 20))
                        var offset = 0
                        while offset < input.count {
                            let piece = min(input.count - offset, 64 << 10, 1 + generator.below(80_000))
                            let box = OwnedPiece(Array(input[offset..<offset + piece]), counter: PieceCounter())
                            box.bytes.withUnsafeBytes { bytes in
                                md5.update(bytes, owner: { box })
                                // The piece cut at chunk ends, as StreamingChunker hands it over.
                                var done = 0
                                while done < piece {
                                    let part = min(piece - done, chunkEnd - (offset + done))
                                    sha256.update(UnsafeRawBufferPointer(rebasing: bytes[done..<done + part]), owner: { box })
                                    done += part
                                    if offset + done == chunkEnd {
                                        #expect(
                                            sha256.finalize() == DigestAlgorithm.sha256.hash(input[chunkStart..<chunkEnd]),
                                            "writer \(writer) chunk at \(chunkStart) of \(chunkEnd - chunkStart)")
                                        chunkStart = chunkEnd
                                        chunkEnd = min(input.count, chunkEnd + 1 + generator.below(2 << 20))
                                    }
                                }
                            }
                            offset += piece
                        }
                        if writer % 7 == 6 { return }  // Abandoned: dropping the streams must not hang.
                        #expect(md5.finalize() == DigestAlgorithm.md5.hash(input), "writer \(writer) length \(input.count)")
                    }
                }
            }
        }
    }

    /// Writers on threads of their own with the production defaults (OpenSSL for lone passes);
    /// some streams are dropped unfinished.
    @Test(arguments: Case.all)
    func concurrentWriters(function: Case) async {
        let service = function.service(window: 256 << 10, everyPass: false)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<12 {
                group.addTask {
                    await onOwnThread {
                        var generator = Generator(state: 0x5851_F42D_4C95_7F2D &+ UInt64(writer))
                        let input = generator.bytes(writer == 0 ? 0 : generator.below(3 << 20))
                        let stream = function.stream(service)
                        var offset = 0
                        while offset < input.count {
                            let piece = min(input.count - offset, 1 + generator.below(200_000))
                            input.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + piece])) }
                            offset += piece
                        }
                        if writer % 5 == 4 { return }  // Abandoned: dropping it must release the worker's hold.
                        #expect(stream.finalize() == function.expected(input), "writer \(writer) length \(input.count)")
                    }
                }
            }
        }
    }

    /// A pass takes the streams whose `finalize` waits for the worker before the others, even
    /// when more streams than lanes have blocks (their turn could be passes away): 20 SHA-256
    /// streams and 3 MD5 streams with blocks, two SHA-256 ones waiting far along the turns, one
    /// claimed, one empty; each function's lanes apart, at most 16.
    @Test func waitingStreamsAreTakenFirst() {
        let sha256 = LaneFunction.sha256(minimumKernelLanes: 1)
        let md5 = LaneFunction.md5(kernel: .best, minimumKernelLanes: 1)
        let streams = (0..<20).map { _ in LaneState(sha256) } + (0..<3).map { _ in LaneState(md5) }
        for lane in streams { lane.queuedBlocks = 1 }
        streams[18].waiting = true
        streams[15].waiting = true
        streams[2].claimed = true
        streams[3].queuedBlocks = 0
        let start = 5
        let ready = MultiBufferHashing.passCandidates(streams, from: start, kinds: 2, most: 16)
        let index = { (lane: LaneState) in streams.firstIndex { $0 === lane }! }
        let taken = ready[LaneFunction.Kind.sha256.rawValue].map(index)
        #expect(taken.count == 16)
        #expect(Array(taken.prefix(2)) == [15, 18], "waiting streams first, in turn order: \(taken)")
        #expect(Array(taken.dropFirst(2)) == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 19, 0], "then the rest in turns")
        #expect(ready[LaneFunction.Kind.md5.rawValue].map(index) == [20, 21, 22])
        // Without waiting streams the turn from `start` decides alone.
        streams[18].waiting = false
        streams[15].waiting = false
        let plain = MultiBufferHashing.passCandidates(streams, from: start, kinds: 2, most: 16)
        #expect(
            plain[LaneFunction.Kind.sha256.rawValue].map(index) == [5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 0])
    }

    /// A chunk's end does not depend on the worker getting a CPU: with the worker counted as
    /// running but never scheduled, `finalize` runs the passes over its stream itself (beside
    /// the other streams of its function) instead of waiting in slices for ever. Before, each
    /// finalize here waited for a worker that never came.
    @Test(arguments: [1, nil] as [Int?])
    func finalizeRunsThePassesWhenTheWorkerIsBehind(minimumKernelLanes: Int?) async {
        let service = MultiBufferHashing(
            window: 4 << 20, md5MinimumKernelLanes: minimumKernelLanes, sha256MinimumKernelLanes: minimumKernelLanes)
        service.workerHeldForTests = true
        let (inputs, digests) = await Self.hashThreeInputs(service, seed: 0xA076_1D64_78BD_642F, interleaved: false)
        #expect(digests != nil, "finalize did not return within 20 s while the worker was held")
        if let digests {
            #expect(digests == inputs.flatMap { [DigestAlgorithm.sha256.hash($0), DigestAlgorithm.md5.hash($0)] })
        }
    }

    /// A writer held back by its full window does not depend on the worker getting a CPU either:
    /// with the worker counted as running but never scheduled and a window of two pieces, each
    /// writer runs the passes over its stream itself. Before, the first full window waited for
    /// the worker for ever.
    @Test(arguments: [1, nil] as [Int?])
    func aWriterHeldBackRunsThePassesWhenTheWorkerIsBehind(minimumKernelLanes: Int?) async {
        let service = MultiBufferHashing(
            window: 128 << 10, md5MinimumKernelLanes: minimumKernelLanes, sha256MinimumKernelLanes: minimumKernelLanes)
        service.workerHeldForTests = true
        // The streams take turns, 64 KiB at a time, so each pass finds several of them.
        let (inputs, digests) = await Self.hashThreeInputs(service, seed: 0x5851_F42D_4C95_7F2D, interleaved: true)
        #expect(digests != nil, "a writer with a full window did not go on within 20 s while the worker was held")
        if let digests {
            #expect(digests == inputs.flatMap { [DigestAlgorithm.sha256.hash($0), DigestAlgorithm.md5.hash($0)] })
        }
    }

    /// The worker's MD5 passes wait for company: a pass costs the same with one stream as with a
    /// lane for each, and nobody waits for an MD5 before its upload's end. It waits while fewer
    /// streams than the service's MD5 streams (at most a pass's worth) have blocks, unless one of
    /// them must go now (its writer or `finalize` waits, or it holds half its window).
    @Test func md5PassesWaitForCompany() {
        let md5 = LaneFunction.md5(kernel: .best, minimumKernelLanes: 1)
        let lanes = (0..<20).map { _ in LaneState(md5) }
        let never = { (_: LaneState) in false }
        let waits = { (count: Int, streams: Int) in
            MultiBufferHashing.waitsForCompany(Array(lanes.prefix(count)), md5Streams: streams, mustGo: never)
        }
        #expect(waits(3, 8), "3 of 8 streams ready: wait for the others")
        #expect(waits(7, 8))
        #expect(!waits(8, 8), "every stream ready: a full pass")
        #expect(!waits(1, 1), "a stream alone has no company to wait for")
        #expect(waits(2, 3))
        let most = MultiBufferHashing.mostLanes
        #expect(!waits(most, 20), "a pass's worth of \(most) streams ready out of 20: go")
        #expect(waits(most - 1, 20))
        #expect(!waits(0, 8), "nothing to hash: nothing to wait for")
        let urgent = lanes[1]
        #expect(!MultiBufferHashing.waitsForCompany(Array(lanes.prefix(3)), md5Streams: 8, mustGo: { $0 === urgent }))
        #expect(MultiBufferHashing.waitsForCompany(Array(lanes.prefix(3)), md5Streams: 8, mustGo: { $0 === lanes[5] }))
    }

    /// Regression: blocks queued below the wake threshold while the worker idled were claimed by
    /// its last look before stopping and then dropped, so the stream stayed claimed and its
    /// `finalize` waited for ever. Now they are hashed (or left for `finalize`).
    @Test func blocksQueuedWhileTheWorkerIdlesAreNotLost() async {
        let service = MultiBufferHashing(window: 1 << 20, md5MinimumKernelLanes: 1, sha256MinimumKernelLanes: 1)
        var generator = Generator(state: 77)
        let input = generator.bytes(160 << 10)
        let digests = await MultiBufferHashingTests.onAThread(within: 10) {
            let stream = service.makeSHA256Stream()
            let first = OwnedPiece(Array(input[0..<(120 << 10)]), counter: PieceCounter())
            // 120 KiB wakes the worker, which hashes it and then idles.
            first.bytes.withUnsafeBytes { stream.update($0, owner: { first }) }
            usleep(50_000)
            // 40 KiB in place: queued below the wake threshold, so no wakeup; the worker's idle
            // wait (200 ms) runs out with it waiting.
            let second = OwnedPiece(Array(input[(120 << 10)...]), counter: PieceCounter())
            second.bytes.withUnsafeBytes { stream.update($0, owner: { second }) }
            usleep(400_000)
            return [stream.finalize()]
        }
        #expect(digests != nil, "finalize did not return within 10 s")
        if let digests { #expect(digests == [DigestAlgorithm.sha256.hash(input)]) }
    }

    /// Three inputs of 1-2 MiB (from `seed`), each hashed with SHA-256 and MD5 by `service` on a
    /// thread of its own, 64 KiB per update: one input after the other, or (`interleaved`) the
    /// inputs in turns. Returns the inputs and every stream's digest (SHA-256 then MD5 per input),
    /// or nil digests when the writer has not finished within 20 s.
    static func hashThreeInputs(
        _ service: MultiBufferHashing, seed: UInt64, interleaved: Bool
    ) async -> (inputs: [[UInt8]], digests: [[UInt8]]?) {
        var generator = Generator(state: seed)
        let inputs = (0..<3).map { _ in generator.bytes((1 << 20) + generator.below(1 << 20)) }
        let digests = await onAThread(within: 20) {
            let boxes = inputs.map { OwnedPiece($0, counter: PieceCounter()) }
            let streams = inputs.map { _ in [service.makeSHA256Stream(), service.makeMD5Stream()] }
            func feed(_ input: Int, at offset: Int) {
                let box = boxes[input]
                box.bytes.withUnsafeBytes { bytes in
                    let piece = min(bytes.count - offset, 64 << 10)
                    for stream in streams[input] {
                        stream.update(UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + piece]), owner: { box })
                    }
                }
            }
            let offsets = { (end: Int) in stride(from: 0, to: end, by: 64 << 10) }
            if interleaved {
                for offset in offsets(inputs.map(\.count).max()!) {
                    for input in inputs.indices where offset < inputs[input].count { feed(input, at: offset) }
                }
            } else {
                for input in inputs.indices {
                    for offset in offsets(inputs[input].count) { feed(input, at: offset) }
                }
            }
            return streams.flatMap { $0.map { $0.finalize() } }
        }
        return (inputs, digests)
    }

    /// Runs `writer` on a thread of its own (it blocks, as an ingest's writer does, outside Swift
    /// concurrency) and returns its digests, or nil when it has not returned within `seconds`.
    static func onAThread(within seconds: Int, _ writer: @escaping @Sendable () -> [[UInt8]]) async -> [[UInt8]]? {
        let finished = DispatchSemaphore(value: 0)
        let result = DigestsBox()
        DispatchQueue(label: "multibuffer-test-writer").async {
            result.set(writer())
            finished.signal()
        }
        let done = await withCheckedContinuation { (continuation: CheckedContinuation<Bool, Never>) in
            DispatchQueue(label: "multibuffer-test-wait").async {
                continuation.resume(returning: finished.wait(timeout: .now() + .seconds(seconds)) == .success)
            }
        }
        return done ? result.value : nil
    }
}

/// Digests handed from a writer thread to the test.
final class DigestsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [[UInt8]] = []
    var value: [[UInt8]] { lock.withLock { stored } }
    func set(_ digests: [[UInt8]]) { lock.withLock { stored = digests } }
}
