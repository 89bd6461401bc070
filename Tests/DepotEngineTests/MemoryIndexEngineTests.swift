import DepotEngine
import DepotHashing
import DepotStorage
import Glibc
import Testing
import TestRandomness

/// The engine over `MemoryIndexStore` instead of LMDB: proof that the index seam (IndexStore)
/// carries the whole engine, so another store (cluster mode's PostgreSQL index) can take its
/// place. Nothing may reach an LMDB file.
struct MemoryIndexEngineTests {
    func openEngine(_ dir: TemporaryDirectory) throws -> (Engine, MemoryIndexStore) {
        let index = MemoryIndexStore(tables: IndexTable.allCases.map(\.rawValue))
        return (try Engine(configuration: testConfiguration(dir.path), indexStore: index), index)
    }

    @Test func ingestReadListDeleteAndMultipartRunOverTheMemoryIndex() async throws {
        let dir = TemporaryDirectory()
        let (engine, index) = try openEngine(dir)
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "tester")
        await #expect(throws: EngineError.bucketAlreadyOwnedByYou("videos")) {
            try await engine.createBucket("videos", owner: "tester")
        }
        #expect(try engine.listBuckets().map(\.name) == ["videos"])

        // Ingest and read, whole and ranged; a second copy is deduplicated.
        var random = SplitMix64(seed: 2112)
        let data = random.bytes(600_001)
        let record = try await engine.put("videos", "cam1/a.mp4", data)
        #expect(record.etag == Hex.encode(DigestAlgorithm.md5.hash(data)))
        #expect(record.manifest.count > 5)
        #expect(try engine.get("videos", "cam1/a.mp4") == data)
        let reader = try #require(try engine.openObject(bucket: "videos", key: "cam1/a.mp4"))
        #expect(try reader.readAll(1000..<300_000) == Array(data[1000..<300_000]))
        try await engine.put("videos", "cam1/b.mp4", data)
        try await engine.put("videos", "cam2/c.mp4", [1, 2, 3])
        let chunkLines = try engine.dump().filter { $0.hasPrefix("chunk") }
        #expect(chunkLines.count == record.manifest.count + 1)
        #expect(chunkLines.contains { $0.hasSuffix("refs=2") })

        // List with a prefix and a delimiter (the byte-order scans of the objects table).
        #expect(try engine.listObjects(bucket: "videos").objects.map(\.key) == ["cam1/a.mp4", "cam1/b.mp4", "cam2/c.mp4"])
        let rolled = try engine.listObjects(bucket: "videos", delimiter: "/")
        #expect(rolled.commonPrefixes == ["cam1/", "cam2/"] && rolled.objects.isEmpty)
        let page = try engine.listObjects(bucket: "videos", prefix: "cam1/", maxKeys: 1)
        #expect(page.objects.map(\.key) == ["cam1/a.mp4"] && page.isTruncated)

        // Multipart: parts, a refused Complete that leaves the upload as it was, then Complete.
        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "big", created: Engine.now(), metadata: ObjectMetadata(owner: "tester")))
        let one = random.bytes(200_000)
        let two = random.bytes(120_000)
        for (number, bytes) in [(1, one), (2, two)] {
            let session = try engine.startPart(uploadId: id, number: number)
            try session.write(bytes)
            _ = try await session.commitPart()
        }
        await #expect(throws: EngineError.invalidPartOrder) {
            _ = try await engine.completeUpload(uploadId: id, parts: [(2, nil), (1, nil)], minimumPartSize: 0) { _, _ in
                CompletedObject(etag: "x")
            }
        }
        #expect(try engine.upload(id) != nil)
        let big = try await engine.completeUpload(uploadId: id, parts: [(1, nil), (2, nil)], minimumPartSize: 0) { _, _ in
            CompletedObject(etag: "joined-2")
        }
        #expect(big.size == 320_000)
        #expect(try engine.get("videos", "big") == one + two)
        #expect(try engine.upload(id) == nil)

        // Delete: the object goes, its chunks lose their references, the bucket empties.
        #expect(try await engine.deleteObject(bucket: "videos", key: "cam1/a.mp4"))
        #expect(try engine.get("videos", "cam1/a.mp4") == nil)
        #expect(try engine.get("videos", "cam1/b.mp4") == data)
        await #expect(throws: EngineError.bucketNotEmpty("videos")) { try await engine.deleteBucket("videos") }
        for key in ["cam1/b.mp4", "cam2/c.mp4", "big"] { #expect(try await engine.deleteObject(bucket: "videos", key: key)) }
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.isEmpty)
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
        try await engine.deleteBucket("videos")
        #expect(try engine.listBuckets().isEmpty)

        // Everything above went to the memory store; no LMDB file was made.
        let objects = index.table(IndexTable.objects.rawValue)
        #expect(try index.read { try $0.count(objects) } == 0)
        let meta = index.table(IndexTable.meta.rawValue)
        #expect(try index.read { try $0.count(meta) } > 0)
        #expect(access(testConfiguration(dir.path).indexDirectory + "/data.mdb", F_OK) != 0)
    }

    /// An injected store without every table of `IndexTable` is refused up front, naming them.
    @Test func aStoreMissingTablesIsRefused() throws {
        let dir = TemporaryDirectory()
        let partial = MemoryIndexStore(tables: [IndexTable.meta.rawValue, IndexTable.objects.rawValue])
        #expect {
            _ = try Engine(configuration: testConfiguration(dir.path), indexStore: partial)
        } throws: { error in
            "\(error)".contains("buckets") && "\(error)".contains("chunks")
        }
    }
}
