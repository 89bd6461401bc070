import CDepotChecksums
import DepotHashing

/// The normalized FastCDC content-defined chunker (Xia et al., USENIX ATC 2016 and IEEE TPDS 2020),
/// written from the papers' description.
///
/// The definition, byte by byte, for one chunk whose bytes are b[0], b[1], …:
/// - no cut before `minimum` bytes, and bytes b[0..<minimum] are not hashed (cut-point skipping);
/// - for i = minimum, minimum+1, …: h = (h << 1) + GEAR[b[i]] (mod 2^64), h starting at 0;
///   the chunk ends after b[i] if h & mask == 0, where mask is the strict mask while i < average
///   and the loose mask from i = average on (normalized chunking, level 2);
/// - a chunk that reaches `maximum` bytes without a cut ends there.
///
/// Gear has no window buffer: a byte's contribution moves up one bit per byte and leaves the word
/// after 64 bytes, so bit k of h depends on the last k+1 bytes only. That is why the masks test
/// high bits: they carry the longest history.
///
/// The hot loop (`roll`, in C) rolls eight bytes per step (after the 2020 paper's two) but gives
/// exactly the same cut points as the byte-by-byte definition, which the tests check against a plain
/// reference.
public struct FastCDC: Sendable {
    public let parameters: ChunkerParameters
    let strictMask: UInt64
    let looseMask: UInt64
    let gear: GearTable

    /// Parameters must pass `ChunkerParameters.validate()`; anything else is a programming error.
    public init(_ parameters: ChunkerParameters) {
        do {
            try parameters.validate()
        } catch {
            preconditionFailure("invalid chunker parameters: \(error)")
        }
        self.parameters = parameters
        let bits = parameters.averageBits
        strictMask = Self.spreadMask(bits: bits + 2)
        looseMask = Self.spreadMask(bits: bits - 2)
        gear = GearTable.shared
    }

    /// A mask of `bits` one-bits spread evenly over bits 63…16: bit number 63 - (j * 48) / bits for
    /// j = 0 ..< bits (bits ≤ 48, so the positions are distinct). Bit 63 sees the last 64 bytes and
    /// bit 16 the last 17. More bits make a match rarer: the strict mask (log2(average) + 2 bits)
    /// matches once in 4·average bytes, the loose one (log2(average) - 2 bits) once in average/4.
    /// Spreading the tested bits, instead of taking a contiguous run, is what the 2016 paper found
    /// to deduplicate slightly better. Fixed forever, like the Gear table.
    static func spreadMask(bits: Int) -> UInt64 {
        precondition(bits >= 1 && bits <= 48)
        var mask: UInt64 = 0
        for j in 0..<bits { mask |= 1 << UInt64(63 - (j * 48) / bits) }
        return mask
    }

    /// Length of the first chunk of `data`. Pass at least `maximum` bytes, or the final remainder
    /// of a stream: with fewer bytes, a chunk without a cut point ends at the end of `data`.
    public func cutPoint(_ data: UnsafeRawBufferPointer) -> Int {
        let limit = min(data.count, parameters.maximum)
        guard data.count > parameters.minimum, let base = data.baseAddress else { return data.count }
        var state = ScanState()
        let cut = scan(base.assumingMemoryBound(to: UInt8.self), count: limit, &state)
        return cut >= 0 ? cut : limit
    }

    /// Where a scan of an unfinished chunk stopped: how many bytes of the chunk it has seen, and
    /// the Gear hash after the last of them. Enough to resume with the next bytes of the stream.
    struct ScanState {
        var length = 0
        var hash: UInt64 = 0
    }

    /// Feeds `count` more bytes of the current chunk, whose first `state.length` bytes were
    /// already scanned. Returns how many of these bytes complete the chunk (then the caller starts
    /// the next chunk with a fresh state), or -1 if the chunk goes on past them (then `state` is
    /// updated to resume). A cut found here is final: it depends only on bytes up to the cut.
    @inline(__always)
    func scan(_ bytes: UnsafePointer<UInt8>, count: Int, _ state: inout ScanState) -> Int {
        let start = state.length
        // Chunk offsets where hashing starts, where the loose mask takes over, and the forced cut;
        // then the same limits as indices into `bytes`.
        let strictEnd = min(count, parameters.average - start)
        let looseEnd = min(count, parameters.maximum - start)
        var i = max(0, parameters.minimum - start)
        var hash = state.hash
        if i < strictEnd {
            let cut = Self.roll(bytes, from: i, to: strictEnd, &hash, mask: strictMask, gear.entries)
            if cut >= 0 { return cut }
            i = strictEnd
        }
        if i < looseEnd {
            let cut = Self.roll(bytes, from: i, to: looseEnd, &hash, mask: looseMask, gear.entries)
            if cut >= 0 { return cut }
        }
        if count >= parameters.maximum - start { return parameters.maximum - start }
        state.length = start + count
        state.hash = hash
        return -1
    }

    /// The hot loop: rolls bytes[from..<to] into `hash` and returns the index just after the first
    /// byte where `hash & mask == 0`, or -1 (then `hash` holds the rolled state).
    ///
    /// It runs in C (Sources/CDepotChecksums/fastcdc_scan.c): eight bytes per step, each hash of the
    /// step computed from the step's start as (h << k) + tk so the table loads overlap, and one
    /// branch per pair of hashes ((ha & hb & mask) == 0 holds whenever either is a cut) instead of
    /// one per byte; the rare pair that passes is tested byte by byte, in order, so the cut points
    /// are exactly the definition's. The scan is bound by the instructions and branches it issues
    /// per byte, not by the hash's dependency chain: in a release build on this project's Xeon it
    /// scans 2,950 MB/s per core against 2,270 for the previous Swift loop (four bytes per step, one
    /// branch per byte), 0.36 instead of 0.47 CPU-s per GiB. The same eight-byte loop in Swift gained
    /// only half as much: Swift cannot mark the cut branches unlikely and laid taken jumps into the
    /// hot path (Benchmarks/MICRO-RESULTS.md, 2026-12-05).
    @inline(__always)
    static func roll(
        _ bytes: UnsafePointer<UInt8>, from: Int, to end: Int, _ hash: inout UInt64, mask: UInt64,
        _ gear: UnsafePointer<UInt64>
    ) -> Int {
        depot_gear_roll(bytes, from, end, &hash, mask, gear)
    }
}

/// The Gear table: 256 pseudo-random 64-bit words, one per byte value. Chunk boundaries depend on
/// every bit of it, so it is fixed forever. It is derived rather than tabulated: entry i is the
/// first 8 bytes, read big-endian, of SHA-256 of the two bytes [0x44, i] ("D" for Depot, then i).
/// Computed once per process and never freed, so the hot loop reads it through a plain pointer.
struct GearTable: @unchecked Sendable {
    /// Immutable after initialisation, hence safe to share between threads.
    let entries: UnsafePointer<UInt64>

    static let shared = GearTable()

    private init() {
        let table = UnsafeMutablePointer<UInt64>.allocate(capacity: 256)
        for i in 0..<256 {
            let digest = DigestAlgorithm.sha256.hash([0x44, UInt8(i)])
            table[i] = digest.prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
        entries = UnsafePointer(table)
    }
}
