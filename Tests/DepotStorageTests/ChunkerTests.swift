import DepotHashing
import DepotStorage
import TestRandomness
import Testing

/// FastCDC: agreement with a plain byte-by-byte reference, fixed cut points, determinism, size
/// bounds, locality of change, and streaming giving the same chunks as one-shot cutting.
struct ChunkerTests {
    static let small = ChunkerParameters(minimum: 4 << 10, average: 16 << 10, maximum: 64 << 10)
    /// A non-power-of-two average (rounded to 8 KiB for the masks) and odd sizes everywhere.
    static let odd = ChunkerParameters(minimum: 3001, average: 10_007, maximum: 50_021)

    /// Little-endian bytes of successive splitmix64 outputs.
    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SplitMix64(seed: seed)
        var out = [UInt8](repeating: 0, count: count)
        var word: UInt64 = 0
        for i in 0..<count {
            if i % 8 == 0 { word = generator.next() }
            out[i] = UInt8(truncatingIfNeeded: word >> (8 * UInt64(i % 8)))
        }
        return out
    }

    /// Chunk lengths from calling `cutPoint` on the rest of the data again and again.
    static func oneShotLengths(_ data: [UInt8], _ parameters: ChunkerParameters) -> [Int] {
        let cdc = FastCDC(parameters)
        var lengths: [Int] = []
        data.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let length = cdc.cutPoint(UnsafeRawBufferPointer(rebasing: buffer[offset...]))
                lengths.append(length)
                offset += length
            }
        }
        return lengths
    }

    /// Chunks of `data` fed to a streaming chunker in pieces of the given sizes (cycled).
    static func streamedChunks(_ data: [UInt8], _ parameters: ChunkerParameters, pieces: [Int] = [65536]) -> [[UInt8]] {
        var chunker = StreamingChunker(parameters)
        var chunks: [[UInt8]] = []
        data.withUnsafeBytes { buffer in
            var offset = 0
            var i = 0
            repeat {
                let end = min(buffer.count, offset + pieces[i % pieces.count])
                chunker.append(UnsafeRawBufferPointer(rebasing: buffer[offset..<end])) { chunks.append(Array($0)) }
                offset = end
                i += 1
            } while offset < buffer.count
            chunker.finish { chunks.append(Array($0)) }
        }
        return chunks
    }

    static func hashes(_ chunks: [[UInt8]]) -> [[UInt8]] { chunks.map { DigestAlgorithm.sha256.hash($0) } }

    /// The algorithm exactly as documented on `FastCDC`, one byte at a time, with the Gear table
    /// and masks rebuilt from their documented derivations. The optimised chunker must agree.
    struct Reference {
        let parameters: ChunkerParameters
        let gear: [UInt64] = (0..<256).map { i in
            DigestAlgorithm.sha256.hash([0x44, UInt8(i)]).prefix(8).reduce(0) { $0 << 8 | UInt64($1) }
        }
        var strict: UInt64 { Self.mask(bits: averageBits + 2) }
        var loose: UInt64 { Self.mask(bits: averageBits - 2) }

        var averageBits: Int {
            var bits = 0
            while 1 << (bits + 1) <= parameters.average { bits += 1 }
            let (lower, upper) = (1 << bits, 1 << (bits + 1))
            return upper - parameters.average < parameters.average - lower ? bits + 1 : bits
        }

        static func mask(bits: Int) -> UInt64 {
            (0..<bits).reduce(UInt64(0)) { mask, j in mask | 1 << UInt64(63 - j * 48 / bits) }
        }

        func lengths(_ data: [UInt8]) -> [Int] {
            let (strict, loose) = (self.strict, self.loose)
            var lengths: [Int] = []
            var start = 0
            while start < data.count {
                let end = min(data.count, start + parameters.maximum)
                var cut = end
                var hash: UInt64 = 0
                var i = start + parameters.minimum
                while i < end {
                    hash = (hash &<< 1) &+ gear[Int(data[i])]
                    if hash & (i - start < parameters.average ? strict : loose) == 0 {
                        cut = i + 1
                        break
                    }
                    i += 1
                }
                lengths.append(cut - start)
                start = cut
            }
            return lengths
        }
    }

    @Test(arguments: [small, odd])
    func agreesWithTheByteByByteReference(parameters: ChunkerParameters) {
        let data = Self.randomBytes(3 << 20, seed: 11)
        let reference = Reference(parameters: parameters).lengths(data)
        #expect(reference.count > 50)
        #expect(Self.oneShotLengths(data, parameters) == reference)
        #expect(Self.streamedChunks(data, parameters).map(\.count) == reference)
    }

    /// Chunk identity must never change: these lengths pin the Gear table, the masks and the
    /// algorithm. If this test fails, stored chunks would no longer deduplicate with new uploads.
    @Test func cutPointsAreFixedForever() {
        let data = Self.randomBytes(8 << 20, seed: 2024)
        #expect(Self.oneShotLengths(data, .standard) == Self.goldenStandard)
        #expect(Array(Self.oneShotLengths(data, Self.small).prefix(12)) == Self.goldenSmall)
    }

    static let goldenStandard = [1_629_574, 1_071_416, 1_090_669, 1_336_671, 1_317_273, 827_141, 1_054_557, 61_307]
    static let goldenSmall = [21145, 17351, 13575, 22539, 19184, 16904, 16388, 18506, 18699, 30082, 36896, 21244]

    @Test func streamingMatchesOneShotHoweverTheBytesArrive() {
        let data = Self.randomBytes(3_000_000, seed: 1)
        let reference = Self.oneShotLengths(data, Self.small)
        #expect(Self.oneShotLengths(data, Self.small) == reference)
        let piecings: [[Int]] = [[65536], [1], [1, 7, 0, 100_000, 3, 65_536, 200_000, 0], [5_000_000], [65_535, 65_537]]
        for pieces in piecings {
            #expect(Self.streamedChunks(data, Self.small, pieces: pieces).map(\.count) == reference, "pieces \(pieces)")
        }
        var generator = SplitMix64(seed: 99)
        let randomPieces = (0..<200).map { _ in Int(generator.next() % 150_000) }
        #expect(Self.streamedChunks(data, Self.small, pieces: randomPieces).map(\.count) == reference)
    }

    @Test func chunksConcatenateToTheInput() {
        let data = Self.randomBytes(2_500_000, seed: 5)
        for pieces in [[65536], [777, 1 << 20]] {
            let chunks = Self.streamedChunks(data, Self.small, pieces: pieces)
            #expect(Array(chunks.joined()) == data)
        }
    }

    @Test func sizesStayWithinBoundsAndNearTheAverage() {
        let data = Self.randomBytes(64 << 20, seed: 2)
        let lengths = Self.oneShotLengths(data, Self.small)
        #expect(lengths.dropLast().allSatisfy { $0 >= Self.small.minimum && $0 <= Self.small.maximum })
        #expect(lengths.last! >= 1 && lengths.last! <= Self.small.maximum)
        let average = Double(data.count) / Double(lengths.count)
        #expect(average > Double(Self.small.average) * 0.5 && average < Double(Self.small.average) * 2)
    }

    @Test func standardParametersOnLargeInput() {
        let data = Self.randomBytes(24 << 20, seed: 3)
        let lengths = Self.streamedChunks(data, .standard).map(\.count)
        #expect(lengths == Self.oneShotLengths(data, .standard))
        #expect(lengths.dropLast().allSatisfy { $0 >= 256 << 10 && $0 <= 4 << 20 })
        let average = Double(data.count) / Double(lengths.count)
        #expect(average > Double(1 << 20) * 0.5 && average < Double(1 << 20) * 2)
    }

    @Test func insertingBytesNearTheStartChangesOnlyTheFirstChunks() {
        let data = Self.randomBytes(2_000_000, seed: 4)
        var edited = data
        edited.insert(contentsOf: [1, 2, 3, 4, 5, 6, 7], at: 1000)
        let before = Self.hashes(Self.streamedChunks(data, Self.small))
        let after = Self.hashes(Self.streamedChunks(edited, Self.small))
        #expect(before.count > 50)
        #expect(before[0] != after[0])
        // Some split within the first two chunks of each is followed by identical chunks to the end.
        let resynchronised = (1...2).contains { i in (1...2).contains { j in before[i...] == after[j...] } }
        #expect(resynchronised)
    }

    @Test func emptyTinyAndShortInputs() {
        #expect(Self.streamedChunks([], Self.small) == [])
        #expect(Self.streamedChunks([42], Self.small) == [[42]])
        #expect(FastCDC(Self.small).cutPoint(UnsafeRawBufferPointer(start: nil, count: 0)) == 0)
        let short = Self.randomBytes(Self.small.minimum, seed: 5)
        #expect(Self.oneShotLengths(short, Self.small) == [Self.small.minimum])
        #expect(Self.streamedChunks(short, Self.small, pieces: [100]).map(\.count) == [Self.small.minimum])
    }

    @Test func uniformDataIsCutAtTheMaximum() {
        let zeros = [UInt8](repeating: 0, count: 300 << 10)
        let lengths = Self.oneShotLengths(zeros, Self.small)
        #expect(lengths == [65536, 65536, 65536, 65536, 45056])
        #expect(Self.streamedChunks(zeros, Self.small, pieces: [1000]).map(\.count) == lengths)
    }

    /// A chunk that lies inside one input buffer is emitted from that buffer, not from a copy.
    @Test func chunksInsideOneInputAreNotCopied() {
        let data = Self.randomBytes(1 << 20, seed: 6)
        var chunker = StreamingChunker(Self.small)
        var inside = 0
        var total = 0
        data.withUnsafeBytes { buffer in
            let range = UInt(bitPattern: buffer.baseAddress)..<UInt(bitPattern: buffer.baseAddress! + buffer.count)
            chunker.append(buffer) { chunk in
                total += 1
                if range.contains(UInt(bitPattern: chunk.baseAddress)) { inside += 1 }
            }
            #expect(chunker.pendingByteCount > 0)
            chunker.finish { _ in total += 1 }
        }
        #expect(total > 10 && inside == total - 1)
    }

    /// Copies of a chunker carry on independently (the shared buffer is copied on write).
    @Test func copiesAreIndependent() {
        let data = Self.randomBytes(400_000, seed: 7)
        let reference = Self.oneShotLengths(data, Self.small)
        var first = StreamingChunker(Self.small)
        var lengths: [[Int]] = [[], []]
        data.withUnsafeBytes { buffer in
            first.append(UnsafeRawBufferPointer(rebasing: buffer[..<150_001])) { lengths[0].append($0.count) }
            lengths[1] = lengths[0]
            var second = first
            let rest = UnsafeRawBufferPointer(rebasing: buffer[150_001...])
            first.append(rest) { lengths[0].append($0.count) }
            first.finish { lengths[0].append($0.count) }
            second.append(rest) { lengths[1].append($0.count) }
            second.finish { lengths[1].append($0.count) }
        }
        #expect(lengths[0] == reference && lengths[1] == reference)
    }

    @Test func errorsFromEmitPropagate() {
        struct Stop: Error {}
        let data = Self.randomBytes(200_000, seed: 8)
        var chunker = StreamingChunker(Self.small)
        #expect(throws: Stop.self) {
            try data.withUnsafeBytes { buffer in try chunker.append(buffer) { _ in throw Stop() } }
        }
    }

    @Test func parameterValidationNamesTheField() {
        func field(_ minimum: Int, _ average: Int, _ maximum: Int) -> String? {
            do {
                try ChunkerParameters(minimum: minimum, average: average, maximum: maximum).validate()
                return nil
            } catch let error as ChunkerParameters.Invalid {
                let others = ["minimum", "average", "maximum"].filter { $0 != error.field }
                #expect("\(error)".hasPrefix(error.field) && others.allSatisfy { !"\(error)".contains($0) })
                return error.field
            } catch {
                return "unexpected \(error)"
            }
        }
        #expect(field(63, 1024, 4096) == "minimum")
        #expect(field(-1, 1024, 4096) == "minimum")
        #expect(field(1024, 1024, 4096) == "average")
        #expect(field(1024, 512, 4096) == "average")
        #expect(field(1024, 4096, 4096) == "maximum")
        #expect(field(1024, 4096, (64 << 20) + 1) == "maximum")
        #expect(field(64, 65, 64 << 20) == nil)
        #expect(field(3001, 10_007, 50_021) == nil)
        #expect(field(256 << 10, 1 << 20, 4 << 20) == nil)
        #expect((try? ChunkerParameters.standard.validate()) != nil)
    }
}
