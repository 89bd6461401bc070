import DepotCluster
import DepotConfig
import DepotEngine
import DepotHashing
import DepotStorage
import Glibc
import Logging
import Testing
import TestRandomness

/// The engine over cluster mode's PostgreSQL index (migration 1's tables) instead of LMDB:
/// ingest, ranged reads, deduplication, listing, multipart, delete and fsck, with every index
/// row in PostgreSQL. Enabled when DEPOT_TEST_POSTGRES_ENGINE names an empty database
/// (Tests/integration/test_cluster_index.py makes one on a private server).
@Suite(.enabled(if: postgresEngineLocation != nil))
struct PostgresIndexEngineTests {

    @Test func theEngineRunsOverThePostgreSQLIndex() async throws {
        let location = try #require(postgresEngineLocation)
        let logger = Logger(label: "postgres-index-engine-tests")
        _ = try await ClusterDatabase.using(location, logger: logger) { try await SchemaMigrator(database: $0).migrate() }
        let index = PostgresIndex(location: location, logger: logger)
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path), indexStore: index)
        defer { engine.shutdown() }

        try await engine.createBucket("videos", owner: "tester")
        var random = SplitMix64(seed: 77)
        let data = random.bytes(700_001)
        let record = try await engine.put("videos", "cam1/a.mp4", data)
        #expect(record.etag == Hex.encode(DigestAlgorithm.md5.hash(data)))
        #expect(try engine.get("videos", "cam1/a.mp4") == data)
        let reader = try #require(try engine.openObject(bucket: "videos", key: "cam1/a.mp4"))
        #expect(try reader.readAll(5000..<400_000) == Array(data[5000..<400_000]))
        try await engine.put("videos", "cam1/b.mp4", data)
        try await engine.put("videos", "cam2/c.mp4", [1, 2, 3])
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.contains { $0.hasSuffix("refs=2") })
        let rolled = try engine.listObjects(bucket: "videos", delimiter: "/")
        #expect(rolled.commonPrefixes == ["cam1/", "cam2/"])

        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "big", created: Engine.now(), metadata: ObjectMetadata(owner: "tester")))
        let parts = [random.bytes(150_000), random.bytes(90_000)]
        for (number, bytes) in zip(1..., parts) {
            let session = try engine.startPart(uploadId: id, number: number)
            try session.write(bytes)
            _ = try await session.commitPart()
        }
        _ = try await engine.completeUpload(uploadId: id, parts: [(1, nil), (2, nil)], minimumPartSize: 0) { _, _ in
            CompletedObject(etag: "joined-2")
        }
        #expect(try engine.get("videos", "big") == parts[0] + parts[1])

        for key in ["cam1/a.mp4", "cam1/b.mp4", "cam2/c.mp4", "big"] {
            #expect(try await engine.deleteObject(bucket: "videos", key: key))
        }
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.isEmpty)
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
        try await engine.deleteBucket("videos")

        // The rows went to PostgreSQL; no LMDB file was made.
        let meta = index.table(IndexTable.meta.rawValue)
        #expect(try index.read { txn in try txn.count(meta) } > 0)
        #expect(access(testConfiguration(dir.path).indexDirectory + "/data.mdb", F_OK) != 0)
    }
}

/// The database DEPOT_TEST_POSTGRES_ENGINE names; nil when unset.
var postgresEngineLocation: PostgresLocation? {
    guard let url = getenv("DEPOT_TEST_POSTGRES_ENGINE").map({ String(cString: $0) }), !url.isEmpty else { return nil }
    return try? PostgresLocation.parse(url)
}
