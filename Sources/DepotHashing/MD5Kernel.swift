import CDepotChecksums

/// The multi-buffer MD5 kernels (Sources/CDepotChecksums/md5_multibuffer*.c): one MD5 stream per
/// 32-bit SIMD lane. Only `best` runs in production; tests force each one the CPU has.
///
/// Why: MD5, the S3 ETag, was Depot's costliest per-byte work on PUT, and one stream cannot go
/// faster than its serial chain of steps. Measured on this machine (2-core Xeon with AVX-512) by a
/// clang -O2 C benchmark of these kernels over 1 MiB buffers per lane, one core, while parallel
/// builds kept the load at 3-7, so the ratios within one run are what counts (three runs):
///
/// | one core, MiB/s            | run 1 | run 2 | run 3 |
/// |----------------------------|------:|------:|------:|
/// | OpenSSL MD5, one stream    |   390 |   363 |   332 |
/// | scalar kernel, 1 lane      |   164 |   366 |   220 |
/// | AVX2, 8 lanes (total)      |  2363 |  1092 |  1257 |
/// | AVX-512, 8 lanes (total)   |  3580 |  1980 |  2237 |
/// | AVX-512, 16 lanes (total)  |  5448 |  2859 |  3510 |
///
/// So 16 concurrent uploads cost 8-14x less CPU for their ETags than with OpenSSL. A lone stream
/// does not gain: in a quieter run OpenSSL did 580-590 MiB/s, the scalar kernel 450-470 and one
/// AVX-512 lane alone 515, so passes with a single stream go to OpenSSL (`MultiBufferHashing`).
public enum MD5Kernel: Int32, Sendable, CaseIterable {
    case scalar = 0
    case avx2 = 1
    case avx512 = 2

    /// The widest kernel this CPU runs.
    public static var best: MD5Kernel { MD5Kernel(rawValue: depot_md5_best_kernel()) ?? .scalar }

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
