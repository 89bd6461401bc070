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
            Self.checkEveryLaneCount(
                label: "kernel \(kernel)", seed: 0x9E37_79B9_7F4A_7C15, reference: .md5, digests: kernel.digests)
        }
    }

    /// For every lane count 1...16, one run of `digests` over lanes of edge lengths, each lane its
    /// own length so that lanes end at different passes of the same run, against `reference`.
    /// Shared by the MD5 and SHA-256 kernel tests.
    static func checkEveryLaneCount(
        label: String, seed: UInt64, reference: DigestAlgorithm, digests: ([[UInt8]]) -> [[UInt8]]
    ) {
        var generator = Generator(state: seed)
        for lanes in 1...16 {
            let inputs = (0..<lanes).map { lane in
                generator.bytes(edgeLengths[(lanes + lane) % edgeLengths.count])
            }
            let results = digests(inputs)
            for (lane, input) in inputs.enumerated() {
                #expect(
                    results[lane] == reference.hash(input), "\(label) lanes \(lanes) lane \(lane) length \(input.count)")
            }
        }
    }

    /// Sixteen lanes: one of 10 MiB, one of a few MiB, the rest short or medium, so lanes finish
    /// far apart and the run stays fast.
    static func spreadInputs(_ generator: inout Generator) -> [[UInt8]] {
        (0..<16).map { lane -> [UInt8] in
            switch lane {
            case 0: return generator.bytes(10 << 20)
            case 1: return generator.bytes(1 + generator.below(3 << 20))
            case 2: return generator.bytes(64 * generator.below(4096))
            default: return generator.bytes(generator.below(lane.isMultiple(of: 2) ? 300_000 : 2000))
            }
        }
    }

    @Test(arguments: kernels)
    func randomLengthsUpToTenMiB(kernel: MD5Kernel) async {
        // Seconds of hashing in a debug build: on a thread of its own, not a cooperative one.
        await onOwnThread {
            var generator = Generator(state: 0xD1B5_4A32_D192_ED03 &+ UInt64(kernel.rawValue))
            let inputs = Self.spreadInputs(&generator)
            let digests = kernel.digests(inputs)
            for (lane, input) in inputs.enumerated() {
                #expect(digests[lane] == DigestAlgorithm.md5.hash(input), "kernel \(kernel) lane \(lane) length \(input.count)")
            }
        }
    }

    /// The kernel chosen per pass (the production default) for every lane count: always one the
    /// CPU runs, never narrower than needed, and right for lanes of edge lengths and of lengths
    /// up to 10 MiB that end at different times.
    @Test func kernelForEachLaneCount() async {
        for lanes in 1...16 {
            let kernel = MD5Kernel.forLanes(lanes)
            #expect(kernel.isSupported, "lanes \(lanes): \(kernel)")
            #expect(kernel == .scalar || kernel.lanes >= min(lanes, 8), "lanes \(lanes): \(kernel)")
        }
        await onOwnThread {
            let perPass = { (inputs: [[UInt8]]) in MD5Kernel.forLanes(inputs.count).digests(inputs) }
            Self.checkEveryLaneCount(
                label: "kernel for the lanes", seed: 0x2F3A_0C41_9E1B_7D55, reference: .md5, digests: perPass)
            var generator = Generator(state: 0x5851_F42D_4C95_7F2D)
            for lanes in [8, 16] {
                let inputs = Array(Self.spreadInputs(&generator).prefix(lanes))
                for (lane, digest) in perPass(inputs).enumerated() {
                    #expect(digest == DigestAlgorithm.md5.hash(inputs[lane]), "lanes \(lanes) lane \(lane)")
                }
            }
        }
    }

    @Test func knownAnswers() {
        // RFC 1321 A.5.
        let service = MultiBufferHashing(window: 64 << 10)
        let stream = service.makeMD5Stream()
        #expect(Hex.encode(stream.finalize()) == "d41d8cd98f00b204e9800998ecf8427e")
        stream.update(Array("message digest".utf8))
        #expect(Hex.encode(stream.finalize()) == "f96b697d7cb7938d525a2f31aaf161d0")
        let long = Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)
        stream.update(long)
        #expect(Hex.encode(stream.finalize()) == "57edf4a22be3c955ac49da2e2107b67a")
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
