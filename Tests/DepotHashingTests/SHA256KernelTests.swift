import DepotHashing
import Testing

/// Multi-buffer SHA-256 against OpenSSL's SHA-256: every kernel the CPU has, every lane count
/// 1...16 (more lanes than a kernel's width run in several passes), the lengths around the
/// padding boundaries, lanes that end at different times, and streams fed over many calls.
struct SHA256KernelTests {
    static let kernels = SHA256Kernel.allCases.filter(\.isSupported)
    typealias Generator = MultiBufferMD5Tests.Generator

    @Test func knownAnswers() {
        // FIPS 180-4 examples (NIST's SHA256.pdf): "abc" and the two-block message.
        for kernel in Self.kernels {
            let digests = kernel.digests([
                Array("abc".utf8), Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8), [],
            ])
            #expect(Hex.encode(digests[0]) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
            #expect(Hex.encode(digests[1]) == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
            #expect(Hex.encode(digests[2]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        }
    }

    @Test(arguments: kernels)
    func everyLaneCountAndEdgeLength(kernel: SHA256Kernel) async {
        await onOwnThread {
            MultiBufferMD5Tests.checkEveryLaneCount(
                label: "kernel \(kernel)", seed: 0x9E37_79B9_7F4A_7C15 &+ UInt64(kernel.rawValue), reference: .sha256,
                digests: kernel.digests)
        }
    }

    @Test(arguments: kernels)
    func randomLengthsUpToTenMiB(kernel: SHA256Kernel) async {
        await onOwnThread {
            let (inputs, expected) = Self.largeInputs
            let digests = kernel.digests(inputs)
            for (lane, input) in inputs.enumerated() {
                #expect(digests[lane] == expected[lane], "kernel \(kernel) lane \(lane) length \(input.count)")
            }
        }
    }

    /// One lane of 10 MiB, one of a few MiB, the rest short or medium, so lanes finish far apart;
    /// made once and shared by every kernel's run (generating them is most of a debug build's time).
    static let largeInputs: (inputs: [[UInt8]], digests: [[UInt8]]) = {
        var generator = Generator(state: 0xD1B5_4A32_D192_ED03)
        let inputs = MultiBufferMD5Tests.spreadInputs(&generator)
        return (inputs, inputs.map { DigestAlgorithm.sha256.hash($0) })
    }()

    /// Streams fed over many calls, as a hashing service does: for every lane count, each call gives
    /// every lane a random number of blocks (often 0), so lanes come and go and end at different
    /// calls, and states carry over between calls.
    @Test(arguments: kernels)
    func statesCarryAcrossCalls(kernel: SHA256Kernel) async {
        await onOwnThread {
            var generator = Generator(state: 0x2545_F491_4F6C_DD1D &+ UInt64(kernel.rawValue))
            for lanes in 1...16 {
                let inputs = (0..<lanes).map { _ in generator.bytes(generator.below(40_000)) }
                Self.checkFedOverCalls(label: "kernel \(kernel)", inputs: inputs, generator: &generator) {
                    kernel.run(states: $0, data: $1, blocks: $2, lanes: $3)
                }
            }
        }
    }

    static func checkFedOverCalls(
        label: String, inputs: [[UInt8]], generator: inout Generator,
        run: (UnsafeMutablePointer<UInt32>, UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int>, Int) -> Void
    ) {
        let lanes = inputs.count
        let states = UnsafeMutablePointer<UInt32>.allocate(capacity: 8 * lanes)
        let data = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: lanes)
        let blocks = UnsafeMutablePointer<Int>.allocate(capacity: lanes)
        let copies = inputs.map { input in
            let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, input.count), alignment: 64)
            copy.copyBytes(from: input)
            return copy
        }
        defer {
            states.deallocate()
            data.deallocate()
            blocks.deallocate()
            copies.forEach { $0.deallocate() }
        }
        var done = [Int](repeating: 0, count: lanes)
        (0..<lanes).forEach { SHA256Kernel.initialize(state: states + 8 * $0) }
        while (0..<lanes).contains(where: { done[$0] < inputs[$0].count / 64 }) {
            for lane in 0..<lanes {
                let left = inputs[lane].count / 64 - done[lane]
                let count = generator.below(3) == 0 ? 0 : min(left, generator.below(120))
                blocks[lane] = count
                data[lane] = UnsafePointer(
                    copies[lane].baseAddress!.advanced(by: 64 * done[lane]).assumingMemoryBound(to: UInt8.self))
                done[lane] += count
            }
            run(states, data, blocks, lanes)
        }
        for lane in 0..<lanes {
            let whole = done[lane] * 64
            let digest = SHA256Kernel.finish(
                state: states + 8 * lane, tail: UnsafeRawPointer(copies[lane].baseAddress!) + whole,
                tailLength: inputs[lane].count - whole, totalLength: inputs[lane].count)
            #expect(
                digest == DigestAlgorithm.sha256.hash(inputs[lane]),
                "\(label) lanes \(lanes) lane \(lane) length \(inputs[lane].count)")
        }
    }

    @Test func kernelForLanesRunsOnThisCPU() {
        for lanes in 1...16 {
            #expect(SHA256Kernel.forLanes(lanes).isSupported, "lanes \(lanes)")
        }
    }
}
