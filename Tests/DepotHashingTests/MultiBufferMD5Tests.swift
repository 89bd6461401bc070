import DepotHashing
import Dispatch
import Foundation
import Testing

/// Multi-buffer MD5 against OpenSSL's MD5: every kernel the CPU has, every lane count 1...16,
/// the lengths around the padding boundaries, lanes that end at different times, and the shared
/// service fed by many streams at once in random pieces.
struct MultiBufferMD5Tests {
    static let kernels = MD5Kernel.allCases.filter(\.isSupported)

    /// Deterministic bytes (a fixed-seed xorshift), so a failure reproduces.
    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state ^= state << 13
            state ^= state >> 7
            state ^= state << 17
            return state
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
        mutating func bytes(_ count: Int) -> [UInt8] {
            // A word at a time: a debug build filling byte by byte took seconds for 10 MiB.
            [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
                let raw = UnsafeMutableRawBufferPointer(buffer)
                var index = 0
                while index + 8 <= count {
                    raw.storeBytes(of: next(), toByteOffset: index, as: UInt64.self)
                    index += 8
                }
                while index < count {
                    raw[index] = UInt8(truncatingIfNeeded: next())
                    index += 1
                }
                initialized = count
            }
        }
    }

    /// Lengths where padding changes shape (55/56 bytes: one or two final blocks; 63/64/65: the
    /// block edge), multiples of 64, and random ones.
    static let edgeLengths = [0, 1, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 640, 4096, 65_535, 65_536, 65_537]

    @Test(arguments: kernels)
    func everyLaneCountAndEdgeLength(kernel: MD5Kernel) async {
        // Seconds of hashing in a debug build: on a thread of its own, not a cooperative one.
        await onOwnThread {
            var generator = Generator(state: 0x9E37_79B9_7F4A_7C15)
            for lanes in 1...16 {
                // Each lane its own length, so lanes end at different passes of the same run.
                let inputs = (0..<lanes).map { lane in
                    generator.bytes(Self.edgeLengths[(lanes + lane) % Self.edgeLengths.count])
                }
                let digests = kernel.digests(inputs)
                for (lane, input) in inputs.enumerated() {
                    #expect(
                        digests[lane] == DigestAlgorithm.md5.hash(input),
                        "kernel \(kernel) lanes \(lanes) lane \(lane) length \(input.count)")
                }
            }
        }
    }

    @Test(arguments: kernels)
    func randomLengthsUpToTenMiB(kernel: MD5Kernel) async {
        // Seconds of hashing in a debug build: on a thread of its own, not a cooperative one.
        await onOwnThread {
            var generator = Generator(state: 0xD1B5_4A32_D192_ED03 &+ UInt64(kernel.rawValue))
            // One lane up to 10 MiB, the rest short or medium: lanes finish far apart, the run stays fast.
            let lanes = 16
            let inputs = (0..<lanes).map { lane -> [UInt8] in
                switch lane {
                case 0: return generator.bytes(10 << 20)
                case 1: return generator.bytes(1 + generator.below(3 << 20))
                case 2: return generator.bytes(64 * generator.below(4096))
                default: return generator.bytes(generator.below(lane.isMultiple(of: 2) ? 300_000 : 2000))
                }
            }
            let digests = kernel.digests(inputs)
            for (lane, input) in inputs.enumerated() {
                #expect(digests[lane] == DigestAlgorithm.md5.hash(input), "kernel \(kernel) lane \(lane) length \(input.count)")
            }
        }
    }

    @Test func knownAnswers() {
        // RFC 1321 A.5.
        let service = MultiBufferMD5(window: 64 << 10)
        let stream = service.makeStream()
        #expect(Hex.encode(stream.finalize()) == "d41d8cd98f00b204e9800998ecf8427e")
        stream.update(Array("message digest".utf8))
        #expect(Hex.encode(stream.finalize()) == "f96b697d7cb7938d525a2f31aaf161d0")
        let long = Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)
        stream.update(long)
        #expect(Hex.encode(stream.finalize()) == "57edf4a22be3c955ac49da2e2107b67a")
    }

    /// Many streams interleaved on one thread in random pieces: the worker sees lanes come and go,
    /// windows fill (the writer waits), and streams end at different times.
    @Test(arguments: kernels)
    func serviceInterleavedStreams(kernel: MD5Kernel) async {
        await onOwnThread {
            var generator = Generator(state: 0x2545_F491_4F6C_DD1D &+ UInt64(kernel.rawValue))
            // A small window so backpressure happens; minimumKernelLanes 1 runs the kernel on every pass.
            let service = MultiBufferMD5(kernel: kernel, window: 128 << 10, minimumKernelLanes: 1)
            let count = 20
            let lengths = (0..<count).map { index -> Int in
                switch index % 5 {
                case 0: return 0
                case 1: return Self.edgeLengths[generator.below(Self.edgeLengths.count)]
                case 2: return generator.below(2 << 20)
                case 3: return 64 * (1 + generator.below(8000))
                default: return generator.below(200_000)
                }
            }
            let inputs = lengths.map { generator.bytes($0) }
            let streams = (0..<count).map { _ in service.makeStream() }
            var offsets = [Int](repeating: 0, count: count)
            var open = Set(0..<count)
            while !open.isEmpty {
                let index = open.randomElement(using: &generator)!
                let piece = min(inputs[index].count - offsets[index], 1 + generator.below(100_000))
                inputs[index].withUnsafeBytes { all in
                    streams[index].update(UnsafeRawBufferPointer(rebasing: all[offsets[index]..<offsets[index] + piece]))
                }
                offsets[index] += piece
                if offsets[index] == inputs[index].count {
                    open.remove(index)
                    #expect(
                        streams[index].finalize() == DigestAlgorithm.md5.hash(inputs[index]),
                        "kernel \(kernel) stream \(index) length \(inputs[index].count)")
                }
            }
        }
    }

    /// Pieces handed over with an owner (the network buffer, in a server) are hashed where they
    /// are: large ones are queued in place and their owners held until hashed, small ones and
    /// pieces without an owner copied, the block joining two pieces copied too. Every digest
    /// matches OpenSSL's, and every owner is released once the streams are done.
    @Test(arguments: kernels)
    func serviceHashesOwnedPiecesInPlace(kernel: MD5Kernel) async {
        await onOwnThread {
            var generator = Generator(state: 0x94D0_49BB_1331_11EB &+ UInt64(kernel.rawValue))
            let service = MultiBufferMD5(kernel: kernel, window: 256 << 10, minimumKernelLanes: 1)
            let live = PieceCounter()
            let count = 10
            let inputs = (0..<count).map { index in generator.bytes(index == 0 ? 0 : generator.below(3 << 20)) }
            var streams = (0..<count).map { _ in service.makeStream() }
            var offsets = [Int](repeating: 0, count: count)
            var open = Set(0..<count)
            while !open.isEmpty {
                let index = open.randomElement(using: &generator)!
                // Mostly network-sized pieces (some a multiple of 64 bytes), some tiny, some large.
                let size: Int
                switch generator.below(4) {
                case 0: size = 1 + generator.below(2000)
                case 1: size = 64 * (1 + generator.below(2048))
                default: size = 1 + generator.below(200_000)
                }
                let piece = min(inputs[index].count - offsets[index], size)
                let box = OwnedPiece(Array(inputs[index][offsets[index]..<offsets[index] + piece]), counter: live)
                let withOwner = generator.below(5) != 0
                box.bytes.withUnsafeBytes { bytes in
                    streams[index].update(
                        bytes,
                        owner: withOwner
                            ? {
                                live.noteKept()
                                return box
                            } : nil)
                }
                offsets[index] += piece
                if offsets[index] == inputs[index].count {
                    open.remove(index)
                    #expect(
                        streams[index].finalize() == DigestAlgorithm.md5.hash(inputs[index]),
                        "kernel \(kernel) stream \(index) length \(inputs[index].count)")
                }
            }
            streams.removeAll()
            #expect(live.owned > 0, "no piece was kept in place")
            // The worker drops the owners of the runs it finished just after its last pass.
            for _ in 0..<200 where live.count > 0 { usleep(10_000) }
            #expect(live.count == 0, "owners still held after every stream finished")
        }
    }

    /// Writers on threads of their own, each feeding its stream in random pieces, with the
    /// production defaults (OpenSSL for lone passes); some streams are dropped unfinished.
    @Test func serviceConcurrentWriters() async {
        let service = MultiBufferMD5(window: 256 << 10)
        await withTaskGroup(of: Void.self) { group in
            for writer in 0..<12 {
                group.addTask {
                    await onOwnThread {
                        var generator = Generator(state: 0x5851_F42D_4C95_7F2D &+ UInt64(writer))
                        let input = generator.bytes(writer == 0 ? 0 : generator.below(3 << 20))
                        let stream = service.makeStream()
                        var offset = 0
                        while offset < input.count {
                            let piece = min(input.count - offset, 1 + generator.below(200_000))
                            input.withUnsafeBytes { stream.update(UnsafeRawBufferPointer(rebasing: $0[offset..<offset + piece])) }
                            offset += piece
                        }
                        if writer % 5 == 4 {
                            // Abandoned: dropping it must release the worker's hold without a hang.
                            return
                        }
                        #expect(stream.finalize() == DigestAlgorithm.md5.hash(input), "writer \(writer) length \(input.count)")
                    }
                }
            }
        }
    }
}

extension MultiBufferMD5Tests.Generator: RandomNumberGenerator {}

/// Counts the piece owners alive and the pieces the service kept (asked for their owner).
final class PieceCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var alive = 0
    private var kept = 0
    var count: Int { lock.withLock { alive } }
    var owned: Int { lock.withLock { kept } }
    func change(_ delta: Int) { lock.withLock { alive += delta } }
    func noteKept() { lock.withLock { kept += 1 } }
}

/// A piece's bytes, standing in for a network buffer: alive while the service holds it.
final class OwnedPiece: @unchecked Sendable {
    let bytes: [UInt8]
    let counter: PieceCounter

    init(_ bytes: [UInt8], counter: PieceCounter) {
        self.bytes = bytes
        self.counter = counter
        counter.change(1)
    }

    deinit { counter.change(-1) }
}

/// Runs blocking work (writers wait on the service) on a dispatch thread, never on one of the
/// cooperative threads the rest of the suite needs.
func onOwnThread(_ work: @escaping @Sendable () -> Void) async {
    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
        DispatchQueue(label: "md5-test-writer").async {
            work()
            done.resume()
        }
    }
}
