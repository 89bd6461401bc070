import DepotEngine
import DepotStorage
import Glibc
import Testing
import TestRandomness

struct MaintenanceTests {
    @Test func rebuildIndexGivesTheSameIndex() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path)
        var before: [String] = []
        do {
            let engine = try Engine(configuration: configuration)
            try await engine.createBucket("one", owner: "a")
            try await engine.createBucket("two", owner: "b")
            try await engine.createBucket("gone", owner: "b")
            try await engine.deleteBucket("gone")
            var random = SplitMix64(seed: 9)
            let shared = random.bytes(100_000)
            for i in 0..<60 {
                try await engine.put(i % 2 == 0 ? "one" : "two", "k\(i)", i % 5 == 0 ? shared : random.bytes(i * 3000))
            }
            for i in stride(from: 0, to: 60, by: 7) {
                try await engine.deleteObject(bucket: i % 2 == 0 ? "one" : "two", key: "k\(i)")
            }
            try await engine.put("one", "k2", random.bytes(5000))
            before = try engine.dump()
            engine.shutdown()
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.isEmpty)
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        #expect(try engine.dump() == before)
        #expect(try engine.fsck().isClean)
    }

    @Test func compactionReclaimsDeadChunksAndKeepsLiveOnes() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path, segmentSize: 1 << 20)
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 11)
        var kept: [String: [UInt8]] = [:]
        for i in 0..<30 {
            let data = random.bytes(150_000)
            try await engine.put("videos", "k\(i)", data)
            if i % 4 == 0 { kept["k\(i)"] = data }
        }
        for i in 0..<30 where i % 4 != 0 { try await engine.deleteObject(bucket: "videos", key: "k\(i)") }
        let dumpBefore = try engine.dump()
        let sizeBefore = segmentBytes(configuration.segmentDirectory)
        let report = try await engine.compact()
        #expect(report.segmentsCompacted > 0 || report.bytesPunched > 0)
        #expect(segmentBytes(configuration.segmentDirectory) < sizeBefore / 2)
        for (key, data) in kept { #expect(try engine.get("videos", key) == data) }
        #expect(try engine.dump() == dumpBefore)
        let fsck = try engine.fsck()
        #expect(fsck.isClean, "\(fsck.problems)")
    }

    @Test func secondProcessCannotOpenALockedDataDirectory() throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        // flock locks belong to the open file description, so a second open in the same
        // process conflicts exactly as another process would.
        #expect(throws: (any Error).self) { _ = try Engine(configuration: testConfiguration(dir.path)) }
    }
}

/// What the segment files occupy on the device (holes punched out of dead records excluded).
func segmentBytes(_ directory: String) -> Int {
    SegmentStore.listSegmentIds(directory).reduce(0) { total, id in
        var st = stat()
        let name = String(repeating: "0", count: max(0, 8 - String(id).count)) + String(id)
        return total + (stat("\(directory)/\(name).seg", &st) == 0 ? Int(st.st_blocks) * 512 : 0)
    }
}
