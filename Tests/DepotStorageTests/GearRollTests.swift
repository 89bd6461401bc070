import DepotHashing
import TestRandomness
import Testing

@testable import DepotStorage

/// The Gear scan (`FastCDC.roll`, eight bytes per step in C, one branch per pair of hashes) against
/// the byte-by-byte definition written out here, and whole chunkings against `ChunkerTests.Reference`:
/// chunk identity must not move by a single byte, or stored chunks stop deduplicating.
struct GearRollTests {
    /// The Gear table from its documented derivation (see `ChunkerTests.Reference`).
    static let gear = ChunkerTests.Reference(parameters: .standard).gear

    /// The definition from FastCDC.swift's comment: h = (h << 1) + GEAR[b] (mod 2^64) per byte, the
    /// cut after the first byte where h & mask == 0.
    static func referenceRoll(_ bytes: [UInt8], from: Int, to end: Int, hash: UInt64, mask: UInt64) -> (Int, UInt64) {
        var h = hash
        for i in from..<end {
            h = (h &<< 1) &+ gear[Int(bytes[i])]
            if h & mask == 0 { return (i + 1, h) }
        }
        return (-1, h)
    }

    /// Masks of one to four bits make cuts frequent (every 2-16 bytes), so every position within
    /// the eight-byte step, both hashes of each tested pair, and pairs passing the combined test
    /// falsely are all hit many times; the 18- and 22-bit masks are the standard parameters' own.
    @Test func rollAgreesWithTheDefinitionAtEveryPositionOfTheStep() {
        var generator = SplitMix64(seed: 15)
        let bytes = ChunkerTests.randomBytes(1 << 16, seed: 151)
        let masks: [UInt64] = [
            1 << 63, 1 << 40 | 1 << 20, FastCDC.spreadMask(bits: 3), FastCDC.spreadMask(bits: 4),
            FastCDC.spreadMask(bits: 7), FastCDC.spreadMask(bits: 18), FastCDC.spreadMask(bits: 22),
        ]
        let gear = GearTable.shared.entries
        var cuts = 0
        var hitsAt = Set<Int>()
        for round in 0..<4000 {
            let from = Int(generator.next() % 4096)
            let length = round % 3 == 0 ? Int(generator.next() % 40) : Int(generator.next() % 20_000)
            let end = min(bytes.count, from + length)
            let mask = masks[Int(generator.next() % UInt64(masks.count))]
            let start = generator.next()
            let expected = Self.referenceRoll(bytes, from: from, to: end, hash: start, mask: mask)
            var hash = start
            let cut = bytes.withUnsafeBufferPointer {
                FastCDC.roll($0.baseAddress!, from: from, to: end, &hash, mask: mask, gear)
            }
            #expect(cut == expected.0, "from \(from) to \(end) mask \(mask)")
            if cut < 0 {
                #expect(hash == expected.1, "hash after from \(from) to \(end) mask \(mask)")
            } else {
                cuts += 1
                hitsAt.insert((cut - from) % 8)
            }
        }
        #expect(cuts > 1000)
        #expect(hitsAt.count == 8)
    }

    /// A tiny parameter set (cuts every few hundred bytes) beside the ones the chunker tests use.
    static let tiny = ChunkerParameters(minimum: 64, average: 200, maximum: 1000)

    @Test(arguments: [ChunkerTests.small, ChunkerTests.odd, .standard, tiny])
    func chunkingAgreesWithTheReferenceForManyLengthsAndPiecings(parameters: ChunkerParameters) {
        var generator = SplitMix64(seed: UInt64(parameters.average))
        let reference = ChunkerTests.Reference(parameters: parameters)
        let big = min(parameters.maximum * 3, 5 << 20)
        var lengths = [
            0, 1, 7, 8, 9, parameters.minimum - 1, parameters.minimum, parameters.minimum + 1,
            parameters.minimum + 8, parameters.average, parameters.maximum - 1, parameters.maximum,
            parameters.maximum + 1, big,
        ]
        lengths += (0..<4).map { _ in Int(generator.next() % UInt64(big)) }
        for (n, length) in lengths.enumerated() {
            let data = ChunkerTests.randomBytes(max(0, length), seed: UInt64(1000 + n))
            let expected = reference.lengths(data)
            #expect(ChunkerTests.oneShotLengths(data, parameters) == expected, "length \(length)")
            let pieces = (0..<50).map { _ in 1 + Int(generator.next() % UInt64(parameters.average)) }
            #expect(
                ChunkerTests.streamedChunks(data, parameters, pieces: pieces).map(\.count) == expected,
                "length \(length), random pieces")
            #expect(
                ChunkerTests.streamedChunks(data, parameters, pieces: [1, 3, 8, 13, 64, 4093]).map(\.count) == expected,
                "length \(length), small pieces")
        }
    }
}
