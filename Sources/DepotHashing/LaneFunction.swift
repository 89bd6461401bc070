import CDepotChecksums
import COpenSSL

/// Runs whole 64-byte blocks of several streams at once: states (one stream's words after the
/// other's), each stream's data, each stream's block count, the number of streams (at most 16).
typealias LaneKernel = (
    UnsafeMutablePointer<UInt32>, UnsafePointer<UnsafePointer<UInt8>?>, UnsafePointer<Int>, Int
) -> Void
/// Pads a stream's last bytes (state, tail, tail length, whole length) and returns its digest.
typealias LaneFinish = (UnsafePointer<UInt32>, UnsafeRawPointer?, Int, Int) -> [UInt8]

/// One hash function as `MultiBufferHashing` runs it: the size of its state, its SIMD kernels,
/// OpenSSL for a stream alone, and from how many streams a kernel pass beats OpenSSL.
struct LaneFunction: @unchecked Sendable {
    /// The functions the service runs; a pass takes up to 16 streams of each.
    enum Kind: Int, CaseIterable {
        /// An upload's ETag.
        case md5
        /// A chunk's content address.
        case sha256
    }

    let kind: Kind
    /// The same function in OpenSSL's EVP, for streams hashed on their writer's thread.
    let algorithm: DigestAlgorithm
    /// True when streams skip the service and hash on their writer's thread whenever no pass
    /// could use the kernel (`minimumKernelLanes` is `Int.max`): a chunk's address is waited for
    /// at the chunk's end, so handing its blocks to the worker only to run OpenSSL there adds
    /// hand-offs and waits and saves nothing. The ETag's MD5 still goes to the worker then,
    /// since nobody waits for it before the upload's end: it runs beside the chunking.
    let inlineWithoutKernel: Bool
    /// 32-bit words of state per stream.
    let stateWords: Int
    /// Passes with fewer streams of this function hash them one after another with OpenSSL
    /// (`Int.max`: every pass does).
    let minimumKernelLanes: Int
    let initialize: (UnsafeMutablePointer<UInt32>) -> Void
    /// One stream's blocks through OpenSSL's assembly.
    let openSSL: (UnsafeMutablePointer<UInt32>, UnsafeRawPointer, Int) -> Void
    let kernel: LaneKernel
    let finish: LaneFinish

    /// Hashes one stream's blocks alone: with OpenSSL, unless tests ask for the kernel on every pass.
    func hashAlone(_ state: UnsafeMutablePointer<UInt32>, from data: UnsafeRawPointer, blocks: Int) {
        guard blocks > 0 else { return }
        if minimumKernelLanes > 1 {
            openSSL(state, data, blocks)
        } else {
            var pointer: UnsafePointer<UInt8>? = data.assumingMemoryBound(to: UInt8.self)
            var count = blocks
            kernel(state, &pointer, &count, 1)
        }
    }

    /// The ETag's MD5. Each pass runs the kernel measured fastest for its number of streams
    /// (`MD5Kernel.forLanes`: ymm lanes up to 8, zmm from 9 on), or `kernel` when one is forced
    /// (tests). The kernel pays from two streams on: one SIMD lane alone is slower than OpenSSL
    /// (650 against 690 MiB/s on Zen 4), two are faster (`MD5Kernel`). The scalar kernel (a CPU
    /// without AVX2) and unoptimized kernels (a debug build: 16 AVX-512 lanes do 176 MiB/s in
    /// all) never beat OpenSSL.
    static func md5(kernel forced: MD5Kernel?, minimumKernelLanes: Int?) -> LaneFunction {
        let forced = forced.map { $0.isSupported ? $0 : .scalar }
        let pays = (forced ?? MD5Kernel.forLanes(2)) != .scalar && depot_md5_kernels_optimized() != 0
        return LaneFunction(
            kind: .md5, algorithm: .md5, inlineWithoutKernel: false, stateWords: 4,
            minimumKernelLanes: minimumKernelLanes ?? (pays ? 2 : Int.max),
            initialize: { depot_md5_init_state($0) }, openSSL: { depot_openssl_md5_blocks($0, $1, $2) },
            kernel: { (forced ?? MD5Kernel.forLanes($3)).run(states: $0, data: $1, blocks: $2, lanes: $3) },
            finish: MD5Kernel.finish)
    }

    /// A chunk's SHA-256. Each pass runs the kernel the C side measured fastest for its number of
    /// streams (`SHA256Kernel.forLanes`), or `forced` (tests). The kernels pay from the lane count
    /// where that choice is a kernel of several streams: one SHA-NI chain is what OpenSSL runs.
    /// (A planner choosing kernels per pass from the lanes' lengths, 31-45% faster than one
    /// kernel on unequal lanes in a micro-benchmark, made no measurable difference to a server's
    /// CPU per GiB with 8 or 12 streams and was removed: Benchmarks/RESULTS-NOTES.md, "Chunk ends
    /// run the passes they wait for".)
    static func sha256(forced: SHA256Kernel? = nil, minimumKernelLanes: Int?) -> LaneFunction {
        let forced = forced.map { $0.isSupported ? $0 : .scalar }
        let paying =
            SHA256Kernel.optimized
            ? (2...Int(DEPOT_SHA256_MAX_LANES)).first { SHA256Kernel.forLanes($0).lanes > 1 } : nil
        return LaneFunction(
            kind: .sha256, algorithm: .sha256, inlineWithoutKernel: true, stateWords: 8,
            minimumKernelLanes: minimumKernelLanes ?? paying ?? Int.max,
            initialize: SHA256Kernel.initialize(state:), openSSL: { depot_openssl_sha256_blocks($0, $1, $2) },
            kernel: { (forced ?? SHA256Kernel.forLanes($3)).run(states: $0, data: $1, blocks: $2, lanes: $3) },
            finish: SHA256Kernel.finish)
    }
}

/// The digests of up to 16 whole inputs computed together in one kernel run (the kernels' tests).
func laneDigests(
    _ inputs: [[UInt8]], stateWords: Int, initialize: (UnsafeMutablePointer<UInt32>) -> Void, run: LaneKernel,
    finish: LaneFinish
) -> [[UInt8]] {
    let lanes = inputs.count
    let total = inputs.reduce(0) { $0 + $1.count }
    let joined = UnsafeMutableRawBufferPointer.allocate(byteCount: max(1, total), alignment: 64)
    let states = UnsafeMutablePointer<UInt32>.allocate(capacity: stateWords * max(1, lanes))
    let data = UnsafeMutablePointer<UnsafePointer<UInt8>?>.allocate(capacity: max(1, lanes))
    let blocks = UnsafeMutablePointer<Int>.allocate(capacity: max(1, lanes))
    defer {
        joined.deallocate()
        states.deallocate()
        data.deallocate()
        blocks.deallocate()
    }
    var offset = 0
    for (lane, input) in inputs.enumerated() {
        input.withUnsafeBytes { source in
            if !source.isEmpty {
                UnsafeMutableRawBufferPointer(rebasing: joined[offset..<offset + source.count]).copyMemory(from: source)
            }
        }
        data[lane] = UnsafePointer(joined.baseAddress!.advanced(by: offset).assumingMemoryBound(to: UInt8.self))
        blocks[lane] = input.count / 64
        initialize(states + stateWords * lane)
        offset += input.count
    }
    run(states, data, blocks, lanes)
    return (0..<lanes).map { lane in
        let whole = blocks[lane] * 64
        return finish(
            states + stateWords * lane, UnsafeRawPointer(data[lane]!) + whole, inputs[lane].count - whole,
            inputs[lane].count)
    }
}
