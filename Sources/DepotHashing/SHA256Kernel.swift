import CDepotChecksums

/// The multi-buffer SHA-256 kernels (Sources/CDepotChecksums/sha256_multibuffer*.c): several
/// chunks' content addresses computed at once, two or three interleaved SHA-NI chains or one
/// stream per 32-bit AVX-512 lane. `MultiBufferHashing` picks the kernel for each pass from the
/// number of streams in it (`forLanes`); tests force each one the CPU has.
public enum SHA256Kernel: Int32, Sendable, CaseIterable {
    case scalar = 0
    /// SHA extensions (sha256rnds2), one stream.
    case shaNI = 1
    /// SHA extensions, two streams' rounds interleaved.
    case shaNIx2 = 2
    /// AVX-512 (F, VL, BW) on ymm registers: 8 streams.
    case avx512x8 = 3
    /// AVX-512 (F, BW) on zmm registers: 16 streams.
    case avx512x16 = 4
    /// SHA extensions, three streams' rounds interleaved; more streams run as groups of three and
    /// two (never one alone when there are several).
    case shaNIx3 = 5

    public var isSupported: Bool { depot_sha256_kernel_supported(rawValue) != 0 }

    /// Streams one pass of the kernel computes side by side: 1, 2, 3, 8 or 16.
    public var lanes: Int { Int(depot_sha256_kernel_lanes(rawValue)) }

    /// True when the C kernels were compiled with optimization (not in a debug build).
    public static var optimized: Bool { depot_sha256_kernels_optimized() != 0 }

    /// The kernel measured fastest (bytes per CPU-second) for a pass of `lanes` streams with work:
    /// on AMD (Zen 4) SHA-NI for 1, two SHA-NI chains for 2, three-chain groups from 3 on; on the
    /// Xeon it was measured on before, two chains for 2-6, AVX-512 ymm for 7-8, zmm for 9-16 (the
    /// tables are in depot_sha256.h and Benchmarks/RESULTS-NOTES.md).
    public static func forLanes(_ lanes: Int) -> SHA256Kernel {
        SHA256Kernel(rawValue: depot_sha256_kernel_for_lanes(Int32(lanes))) ?? .scalar
    }

    /// Sets the eight state words of a new stream.
    public static func initialize(state: UnsafeMutablePointer<UInt32>) { depot_sha256_init_state(state) }

    /// Runs whole 64-byte blocks of several streams (at most 16) at once. `states` holds 8 words
    /// per lane; `blocks[i]` blocks are read from `data[i]`.
    public func run(
        states: UnsafeMutablePointer<UInt32>, data: UnsafePointer<UnsafePointer<UInt8>?>,
        blocks: UnsafePointer<Int>, lanes: Int
    ) {
        precondition(lanes <= Int(DEPOT_SHA256_MAX_LANES), "run: at most 16 lanes")
        blocks.withMemoryRebound(to: size_t.self, capacity: lanes) { counts in
            depot_sha256_multi_blocks(rawValue, states, data, counts, Int32(lanes))
        }
    }

    /// The SHA-256 of each input (at most 16), computed together in one multi-buffer run.
    public func digests(_ inputs: [[UInt8]]) -> [[UInt8]] {
        precondition(inputs.count <= Int(DEPOT_SHA256_MAX_LANES), "digests: at most 16 inputs")
        return laneDigests(
            inputs, stateWords: 8, initialize: Self.initialize(state:),
            run: { run(states: $0, data: $1, blocks: $2, lanes: $3) }, finish: Self.finish)
    }

    /// Pads the last `tailLength` (< 64) bytes and returns the 32-byte digest.
    public static func finish(state: UnsafePointer<UInt32>, tail: UnsafeRawPointer?, tailLength: Int, totalLength: Int)
        -> [UInt8]
    {
        [UInt8](unsafeUninitializedCapacity: 32) { digest, count in
            depot_sha256_finish(
                state, tail?.assumingMemoryBound(to: UInt8.self), tailLength, UInt64(totalLength),
                digest.baseAddress)
            count = 32
        }
    }
}
