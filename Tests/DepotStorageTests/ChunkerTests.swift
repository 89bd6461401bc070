import DepotHashing
import DepotStorage
import Testing

/// FastCDC: determinism, size bounds, locality of change, streaming equals one-shot.
struct ChunkerTests {
    static let small = ChunkerParameters(minimum: 4 << 10, average: 16 << 10, maximum: 64 << 10)

    static func randomBytes(_ count: Int, seed: UInt64) -> [UInt8] {
        var state = seed
        var out = [UInt8]()
        out.reserveCapacity(count + 8)
        while out.count < count {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            withUnsafeBytes(of: z ^ (z >> 31)) { out.append(contentsOf: $0) }
        }
        return Array(out.prefix(count))
    }

    /// Chunk lengths of `data` fed in pieces of the given sizes (cycled).
    static func chunkLengths(_ data: [UInt8], _ parameters: ChunkerParameters, pieces: [Int] = [65536]) -> [Int] {
        var chunker = StreamingChunker(parameters)
        var lengths: [Int] = []
        data.withUnsafeBytes { buffer in
            var offset = 0
            var i = 0
            while offset < buffer.count {
                let end = min(buffer.count, offset + pieces[i % pieces.count])
                chunker.append(UnsafeRawBufferPointer(rebasing: buffer[offset..<end])) { lengths.append($0.count) }
                offset = end
                i += 1
            }
            chunker.finish { lengths.append($0.count) }
        }
        return lengths
    }

    static func chunkHashes(_ data: [UInt8], _ parameters: ChunkerParameters) -> [[UInt8]] {
        var chunker = StreamingChunker(parameters)
        var hashes: [[UInt8]] = []
        data.withUnsafeBytes { buffer in
            chunker.append(buffer) { hashes.append(DigestAlgorithm.sha256.hash($0)) }
            chunker.finish { hashes.append(DigestAlgorithm.sha256.hash($0)) }
        }
        return hashes
    }

    @Test func deterministicAndIndependentOfHowBytesArrive() {
        let data = Self.randomBytes(3_000_000, seed: 1)
        let reference = Self.chunkLengths(data, Self.small)
        #expect(Self.chunkLengths(data, Self.small) == reference)
        #expect(Self.chunkLengths(data, Self.small, pieces: [1, 7, 100_000, 3, 65_536, 200_000]) == reference)
        #expect(Self.chunkLengths(data, Self.small, pieces: [5_000_000]) == reference)
        #expect(reference.reduce(0, +) == data.count)
    }

    @Test func sizesStayWithinBoundsAndNearTheAverage() {
        let data = Self.randomBytes(16 << 20, seed: 2)
        let lengths = Self.chunkLengths(data, Self.small)
        for length in lengths.dropLast() {
            #expect(length >= Self.small.minimum && length <= Self.small.maximum)
        }
        #expect(lengths.last! <= Self.small.maximum)
        let average = Double(data.count) / Double(lengths.count)
        #expect(average > Double(Self.small.average) * 0.5 && average < Double(Self.small.average) * 2)
    }

    @Test func standardParametersOnLargeInput() {
        let data = Self.randomBytes(24 << 20, seed: 3)
        let lengths = Self.chunkLengths(data, .standard)
        #expect(lengths.dropLast().allSatisfy { $0 >= 256 << 10 && $0 <= 4 << 20 })
        #expect(lengths.count >= 6 && lengths.count <= 96)
    }

    @Test func insertingBytesNearTheStartChangesOnlyTheFirstChunks() {
        let data = Self.randomBytes(2_000_000, seed: 4)
        var edited = data
        edited.insert(contentsOf: [1, 2, 3, 4, 5, 6, 7], at: 1000)
        let before = Self.chunkHashes(data, Self.small)
        let after = Self.chunkHashes(edited, Self.small)
        let shared = Set(before).intersection(after)
        #expect(before.count > 50)
        // Everything after the first chunk or two re-synchronises.
        #expect(shared.count >= before.count - 2)
        #expect(before.suffix(before.count - 2) == after.suffix(before.count - 2))
    }

    @Test func tinyAndEmptyInputs() {
        #expect(Self.chunkLengths([], Self.small) == [])
        #expect(Self.chunkLengths([42], Self.small) == [1])
        let below = Self.randomBytes(Self.small.minimum, seed: 5)
        #expect(Self.chunkLengths(below, Self.small) == [Self.small.minimum])
    }

    @Test func uniformDataIsCutAtTheMaximum() {
        let zeros = [UInt8](repeating: 0, count: 300 << 10)
        let lengths = Self.chunkLengths(zeros, Self.small)
        #expect(lengths.dropLast().allSatisfy { $0 == Self.small.maximum })
    }

    @Test func parameterValidationNamesTheField() {
        #expect(throws: ChunkerParameters.Invalid.self) {
            try ChunkerParameters(minimum: 10, average: 100, maximum: 1000).validate()
        }
        do {
            try ChunkerParameters(minimum: 1024, average: 512, maximum: 4096).validate()
            Issue.record("accepted average below minimum")
        } catch let error as ChunkerParameters.Invalid {
            #expect(error.field == "average")
        } catch {
            Issue.record("unexpected \(error)")
        }
        do {
            try ChunkerParameters(minimum: 1024, average: 4096, maximum: 128 << 20).validate()
            Issue.record("accepted a 128 MiB maximum")
        } catch let error as ChunkerParameters.Invalid {
            #expect(error.field == "maximum")
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect((try? ChunkerParameters.standard.validate()) != nil)
    }
}
