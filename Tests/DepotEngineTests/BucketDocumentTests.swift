import DepotStorage
import Glibc
import Testing

@testable import DepotEngine

/// Named bucket documents (policies, CORS, ACLs, ...): stored with the bucket record, logged with
/// it, so a rebuilt index keeps them; a bucket without documents keeps its earlier encoding.
struct BucketDocumentTests {
    @Test func documentsRoundTripBesideTheOtherSettingsAndOldEncodingsStay() throws {
        var bucket = BucketRecord(created: 5, owner: "o", region: "r", tags: [("a", "b")])
        #expect(bucket.encoded().first == 1)
        bucket.versioning = .enabled
        #expect(bucket.encoded().first == 2)
        bucket.objectLock = BucketObjectLock(defaultMode: 1, defaultDays: 3, defaultYears: 0)
        #expect(bucket.encoded().first == 3)
        bucket.setDocument("policy", Array("{\"Version\":\"2012-10-17\"}".utf8))
        bucket.setDocument("cors", [0, 1, 2, 255])
        #expect(bucket.encoded().first == 4)
        #expect(bucket.documents.map(\.name) == ["cors", "policy"])
        let decoded = try bucket.encoded().decode { try BucketRecord.decode(&$0) }
        #expect(decoded == bucket)
        #expect(decoded.objectLock == bucket.objectLock && decoded.versioning == .enabled && decoded.tags.count == 1)
        #expect(decoded.document("cors") == [0, 1, 2, 255])
        // Without a lock, version 4 says so and still decodes.
        var unlocked = BucketRecord(created: 5, owner: "o", region: "r")
        unlocked.setDocument("policy", [1])
        let again = try unlocked.encoded().decode { try BucketRecord.decode(&$0) }
        #expect(again.objectLock == nil && again.document("policy") == [1] && again.versioning == .unversioned)
        // Removing the last document gives back the earlier encoding.
        unlocked.setDocument("policy", nil)
        #expect(unlocked.encoded() == BucketRecord(created: 5, owner: "o", region: "r").encoded())
    }

    @Test func setBucketDocumentIsLoggedSoARebuildKeepsIt() async throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: testConfiguration(dir.path))
            defer { engine.shutdown() }
            try await engine.createBucket("docs", owner: "o")
            try await engine.setBucketDocument("docs", name: "policy", Array("first".utf8))
            try await engine.setBucketDocument("docs", name: "policy", Array("second".utf8))
            try await engine.setBucketDocument("docs", name: "cors", [9])
            try await engine.setBucketDocument("docs", name: "cors", nil)
            await #expect(throws: EngineError.self) {
                try await engine.setBucketDocument("missing", name: "policy", [1])
            }
            #expect(try engine.bucket("docs")?.document("policy") == Array("second".utf8))
        }
        _ = system("rm -rf '\(testConfiguration(dir.path).indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: testConfiguration(dir.path))
        #expect(report.problems.isEmpty)
        let rebuilt = try Engine(configuration: testConfiguration(dir.path))
        defer { rebuilt.shutdown() }
        let bucket = try rebuilt.bucket("docs")
        #expect(bucket?.document("policy") == Array("second".utf8))
        #expect(bucket?.document("cors") == nil)
    }
}
