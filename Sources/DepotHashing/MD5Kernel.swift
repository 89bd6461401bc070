import CDepotChecksums

/// The multi-buffer MD5 kernels (Sources/CDepotChecksums/md5_multibuffer*.c): one MD5 stream per
/// 32-bit SIMD lane. In production each pass runs `forLanes(streams in the pass)`; tests force
/// each kernel the CPU has.
///
/// Why: MD5, the S3 ETag, was Depot's costliest per-byte work on PUT, and one stream cannot go
/// faster than its serial chain of steps. Measured on this machine (2-vCPU AMD EPYC, Zen 4: AVX-512
/// executed as two 256-bit halves; 3.6 GHz) by a clang -O2 C benchmark of these kernels over 1 MiB
/// per lane, one core, thread CPU time, medians of five interleaved runs while parallel builds
/// kept the load at 12 (each median's range within ±10%). "Before" is the kernel of b6fbf3d, whose steps
/// clang compiled into a chain of five dependent operations (four now, `DEPOT_MD5_KEEP`):
///
/// | MiB per CPU-second, all lanes | 1 lane | 2 lanes | 4 lanes | 8 lanes | 12 lanes | 16 lanes |
/// |-------------------------------|-------:|--------:|--------:|--------:|---------:|---------:|
/// | OpenSSL MD5, a stream at a time |  690 |     701 |     688 |     707 |      698 |      707 |
/// | AVX2, 8 lanes a pass          |    522 |   1,051 |   2,049 |   4,117 |    3,165 |    4,211 |
/// | AVX-512 zmm, 16 lanes, before |    449 |     898 |   1,785 |   3,536 |    5,349 |    6,534 |
/// | AVX-512 zmm, 16 lanes (`avx512x16`) | 541 | 1,072 |   2,106 |   4,041 |    5,871 |    7,420 |
/// | AVX-512VL ymm, 8 lanes (`avx512x8`) | 642 | 1,283 |   2,591 |   5,101 |    3,894 |    5,131 |
///
/// A pass costs about the same whatever its lanes hold until the vector unit is full, and on
/// Zen 4 a zmm pass is full only with 16 lanes: up to 8 lanes the ymm kernel hashes 19-26% more
/// per CPU-second than the zmm one (44% more than before with 8 lanes, the server's 8-stream
/// PUT), from 9 on the zmm kernel does in one pass what takes the ymm one two
/// (`forLanes`). Tried and not kept: loading each message word with gathers instead of the
/// transposes (x16: 2,887 MiB/s for 16 lanes; x8: 3,429 for 8) and 16 lanes as two interleaved
/// ymm chains (7,003-7,319, level with zmm). The transposes cost the zmm kernel about 11% (8,091
/// MiB/s without them, wrong digests) and the ymm one 2%. A lone stream does not gain: one lane is
/// slower than OpenSSL, so passes with a single stream go to OpenSSL (`MultiBufferHashing`).
/// Earlier, on a 2-core Xeon: 16 AVX-512 lanes 2,859-5,448 MiB/s, 8 AVX2 lanes 1,092-2,363,
/// OpenSSL 332-390 (load 3-7).
public enum MD5Kernel: Int32, Sendable, CaseIterable {
    case scalar = 0
    case avx2 = 1
    /// AVX-512F on zmm registers: 16 streams.
    case avx512x16 = 2
    /// AVX-512 (F, VL) on ymm registers: 8 streams.
    case avx512x8 = 3

    /// The widest kernel this CPU runs.
    public static var best: MD5Kernel { MD5Kernel(rawValue: depot_md5_best_kernel()) ?? .scalar }

    /// The kernel measured fastest for a pass of `lanes` streams: AVX-512 on ymm registers for up
    /// to 8, on zmm registers for more (the table above; the choice is in depot_md5.h).
    public static func forLanes(_ lanes: Int) -> MD5Kernel {
        MD5Kernel(rawValue: depot_md5_kernel_for_lanes(Int32(lanes))) ?? .scalar
    }

    public var isSupported: Bool { depot_md5_kernel_supported(rawValue) != 0 }

    /// Streams computed in one pass: 1, 8 or 16.
    public var lanes: Int { Int(depot_md5_kernel_lanes(rawValue)) }

    /// Runs whole 64-byte blocks of several streams at once. `states` holds 4 words per lane;
    /// `blocks[i]` blocks are read from `data[i]`.
    func run(
        states: UnsafeMutablePointer<UInt32>, data: UnsafePointer<UnsafePointer<UInt8>?>,
        blocks: UnsafePointer<Int>, lanes: Int
    ) {
        blocks.withMemoryRebound(to: size_t.self, capacity: lanes) { counts in
            depot_md5_multi_blocks(rawValue, states, data, counts, Int32(lanes))
        }
    }

    /// The MD5 of each input (at most 16), computed together in one multi-buffer run.
    public func digests(_ inputs: [[UInt8]]) -> [[UInt8]] {
        precondition(inputs.count <= Int(DEPOT_MD5_MAX_LANES), "digests: at most 16 inputs")
        return laneDigests(
            inputs, stateWords: 4, initialize: { depot_md5_init_state($0) },
            run: { run(states: $0, data: $1, blocks: $2, lanes: $3) }, finish: Self.finish)
    }

    /// Pads the last `tailLength` (< 64) bytes and returns the 16-byte digest.
    static func finish(state: UnsafePointer<UInt32>, tail: UnsafeRawPointer?, tailLength: Int, totalLength: Int)
        -> [UInt8]
    {
        [UInt8](unsafeUninitializedCapacity: 16) { digest, count in
            depot_md5_finish(
                state, tail?.assumingMemoryBound(to: UInt8.self), tailLength, UInt64(totalLength),
                digest.baseAddress)
            count = 16
        }
    }
}
