import DepotEngine
import DepotHashing
import DepotStorage
import Testing
import TestRandomness

struct EngineTests {
    @Test func putGetRangeDelete() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 1)
        let data = random.bytes(1_000_003)
        let record = try await engine.put("videos", "cam/1.mp4", data)
        #expect(record.size == 1_000_003)
        #expect(record.etag == Hex.encode(DigestAlgorithm.md5.hash(data)))
        #expect(record.manifest.count > 10)
        #expect(try engine.get("videos", "cam/1.mp4") == data)
        let reader = try #require(try engine.openObject(bucket: "videos", key: "cam/1.mp4"))
        #expect(try reader.readAll(12345..<700_001) == Array(data[12345..<700_001]))
        #expect(try await engine.deleteObject(bucket: "videos", key: "cam/1.mp4"))
        #expect(try engine.get("videos", "cam/1.mp4") == nil)
        #expect(try await !engine.deleteObject(bucket: "videos", key: "cam/1.mp4"))
        #expect(try engine.fsck().isClean)
    }

    /// A read plan asks for every chunk of its range ahead exactly once, the range's first chunk
    /// (even when the range starts inside it) for the next two, and never for a chunk past the range.
    @Test func readPlanPrefetchesEachChunkOfTheRangeOnce() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 7)
        let record = try await engine.put("videos", "long", random.bytes(1_000_000))
        let chunks = record.manifest.count
        #expect(chunks > 10)
        let reader = try #require(try engine.openObject(bucket: "videos", key: "long"))

        let whole = reader.plan(0..<record.size, maxPiece: 8 << 10)
        #expect(whole.first?.prefetch == 1..<3)
        #expect(whole.flatMap { Array($0.prefetch) } == Array(1..<chunks))

        let inside = reader.plan(5000..<record.size)  // starts inside chunk 0
        #expect(inside.first?.prefetch == 1..<3)
        #expect(reader.plan(0..<2).allSatisfy { $0.prefetch.isEmpty })

        // A range over chunks 3...5 reads ahead 4 and 5 only.
        let starts = record.manifest.reduce(into: [UInt64(0)]) { $0.append($0.last! + UInt64($1.length)) }
        let middle = reader.plan(starts[3]..<starts[6] - 1)
        #expect(middle.flatMap { Array($0.prefetch) } == [4, 5])
        #expect(try reader.readAll(starts[3]..<starts[6] - 1).count == Int(starts[6] - 1 - starts[3]))
    }

    @Test func emptyObject() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        let record = try await engine.put("videos", "empty", [])
        #expect(record.size == 0 && record.manifest.isEmpty)
        #expect(record.etag == "d41d8cd98f00b204e9800998ecf8427e")
        #expect(try engine.get("videos", "empty") == [])
    }

    @Test func dedupSharesChunksAndCountsReferences() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 2)
        let data = random.bytes(500_000)
        try await engine.put("videos", "a", data)
        let segmentBytesAfterFirst = try engine.dump().filter { $0.hasPrefix("chunk") }
        try await engine.put("videos", "b", data)
        let chunks = try engine.dump().filter { $0.hasPrefix("chunk") }
        #expect(chunks.count == segmentBytesAfterFirst.count)
        #expect(chunks.allSatisfy { $0.hasSuffix("refs=2") })
        try await engine.deleteObject(bucket: "videos", key: "a")
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.allSatisfy { $0.hasSuffix("refs=1") })
        #expect(try engine.get("videos", "b") == data)
        try await engine.deleteObject(bucket: "videos", key: "b")
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.isEmpty)
        #expect(try engine.fsck().isClean)
    }

    @Test func overwriteReleasesOldChunks() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 3)
        try await engine.put("videos", "k", random.bytes(300_000))
        let second = random.bytes(200_000)
        try await engine.put("videos", "k", second)
        #expect(try engine.get("videos", "k") == second)
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
    }

    @Test func bucketRules() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "alice")
        await #expect(throws: EngineError.bucketAlreadyOwnedByYou("videos")) {
            try await engine.createBucket("videos", owner: "alice")
        }
        await #expect(throws: EngineError.bucketAlreadyExists("videos")) { try await engine.createBucket("videos", owner: "bob") }
        await #expect(throws: EngineError.invalidBucketName("Bad_Name")) {
            try await engine.createBucket("Bad_Name", owner: "alice")
        }
        await #expect(throws: EngineError.invalidBucketName("api")) { try await engine.createBucket("api", owner: "alice") }
        #expect(throws: EngineError.noSuchBucket("nope")) { _ = try engine.startIngest(bucket: "nope", key: "k") }
        try await engine.put("videos", "k", [1, 2, 3])
        await #expect(throws: EngineError.bucketNotEmpty("videos")) { try await engine.deleteBucket("videos") }
        try await engine.deleteObject(bucket: "videos", key: "k")
        try await engine.deleteBucket("videos")
        #expect(try engine.bucket("videos") == nil)
    }

    @Test func keysLongerThanS3AllowsAreRefusedNotTruncated() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        let longest = String(repeating: "k", count: Engine.maximumKeyLength)
        try await engine.put("videos", longest, [1])
        #expect(try engine.headObject(bucket: "videos", key: longest)?.size == 1)
        #expect(throws: EngineError.keyTooLong(maximum: 1024)) {
            _ = try engine.startIngest(bucket: "videos", key: longest + "x")
        }
    }

    @Test func listingWithPrefixDelimiterAndPaging() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        for key in ["a/1", "a/2", "b/1", "b/x/1", "c", "d/1", "é"] { try await engine.put("videos", key, [1]) }
        let all = try engine.listObjects(bucket: "videos")
        #expect(all.objects.map(\.key) == ["a/1", "a/2", "b/1", "b/x/1", "c", "d/1", "é"])
        let rolled = try engine.listObjects(bucket: "videos", delimiter: "/")
        #expect(rolled.objects.map(\.key) == ["c", "é"])
        #expect(rolled.commonPrefixes == ["a/", "b/", "d/"])
        let inB = try engine.listObjects(bucket: "videos", prefix: "b/", delimiter: "/")
        #expect(inB.objects.map(\.key) == ["b/1"] && inB.commonPrefixes == ["b/x/"])
        var page = try engine.listObjects(bucket: "videos", delimiter: "/", maxKeys: 2)
        #expect(page.commonPrefixes == ["a/", "b/"] && page.isTruncated && page.lastReturned == "b/")
        page = try engine.listObjects(bucket: "videos", delimiter: "/", startAfter: "b/", maxKeys: 2)
        #expect(page.objects.map(\.key) == ["c"] && page.commonPrefixes == ["d/"] && page.isTruncated)
        let zero = try engine.listObjects(bucket: "videos", maxKeys: 0)
        #expect(zero.objects.isEmpty && !zero.isTruncated)
    }

    @Test func concurrentUploadsShareGroupCommits() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        try await withThrowingTaskGroup(of: Void.self) { group in
            for i in 0..<40 {
                group.addTask {
                    var random = SplitMix64(seed: UInt64(100 + i))
                    try await engine.put("videos", "obj-\(i)", random.bytes(20_000 + i * 1000))
                }
            }
            try await group.waitForAll()
        }
        for i in 0..<40 {
            var random = SplitMix64(seed: UInt64(100 + i))
            #expect(try engine.get("videos", "obj-\(i)") == random.bytes(20_000 + i * 1000))
        }
        #expect(try engine.fsck().isClean)
    }
}
