import DepotEngine
import DepotHashing
import Testing
import TestRandomness

struct MultipartTests {
    func part(_ engine: Engine, _ id: String, _ number: Int, _ bytes: [UInt8]) async throws -> PartRecord {
        let session = try engine.startPart(uploadId: id, number: number)
        try session.write(bytes)
        return try await session.commitPart()
    }

    @Test func completeJoinsManifestsAndTransfersReferences() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "t")
        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "big", created: Engine.now(), metadata: ObjectMetadata(owner: "t")))
        var random = SplitMix64(seed: 21)
        let one = random.bytes(200_000)
        let two = random.bytes(150_000)
        let unused = random.bytes(90_000)
        _ = try await part(engine, id, 1, random.bytes(10))  // replaced below
        _ = try await part(engine, id, 1, one)
        _ = try await part(engine, id, 2, two)
        _ = try await part(engine, id, 3, unused)
        #expect(try engine.fsck().isClean)
        await #expect(throws: EngineError.invalidPartOrder) {
            _ = try await engine.completeUpload(uploadId: id, parts: [(2, nil), (1, nil)], minimumPartSize: 0) { _, _ in
                CompletedObject(etag: "x")
            }
        }
        await #expect(throws: EngineError.entityTooSmall) {
            _ = try await engine.completeUpload(uploadId: id, parts: [(1, nil), (2, nil)], minimumPartSize: 250_000) { _, _ in
                CompletedObject(etag: "x")
            }
        }
        let record = try await engine.completeUpload(uploadId: id, parts: [(1, nil), (2, nil)], minimumPartSize: 100_000) {
            _, parts in
            CompletedObject(etag: Hex.encode(DigestAlgorithm.md5.hash(parts.flatMap(\.md5))) + "-2")
        }
        #expect(record.size == 350_000 && record.partSizes == [200_000, 150_000] && record.etag.hasSuffix("-2"))
        #expect(try engine.get("videos", "big") == one + two)
        #expect(try engine.upload(id) == nil)
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
    }

    @Test func abandonedUploadsExpireAndReleaseTheirChunks() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "t")
        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "k", created: Engine.now() - 10_000, metadata: ObjectMetadata(owner: "t")))
        var random = SplitMix64(seed: 22)
        _ = try await part(engine, id, 1, random.bytes(100_000))
        #expect(try !engine.dump().filter { $0.hasPrefix("chunk") }.isEmpty)
        #expect(try await engine.expireUploads(olderThan: 60_000) == 0)
        #expect(try await engine.expireUploads(olderThan: 5_000) == 1)
        #expect(try engine.upload(id) == nil)
        #expect(try engine.dump().filter { $0.hasPrefix("chunk") }.isEmpty)
        #expect(try engine.fsck().isClean)
    }

    /// A repeated Complete (a client retrying after a timeout) finds the object the upload made while it keeps
    /// the ETag it completed with, and the record is forgotten with the abandoned-upload expiry.
    @Test func completedUploadsAreRememberedUntilTheyExpire() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "t")
        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "k", created: Engine.now(), metadata: ObjectMetadata(owner: "t")))
        _ = try await part(engine, id, 1, [1, 2, 3])
        let record = try await engine.completeUpload(uploadId: id, parts: [(1, nil)], minimumPartSize: 0) { _, _ in
            CompletedObject(etag: "abc-1")
        }
        #expect(try engine.recentlyCompletedObject(uploadId: id, bucket: "videos", key: "k")?.etag == record.etag)
        #expect(try engine.recentlyCompletedObject(uploadId: id, bucket: "videos", key: "other") == nil)
        // The engine call itself, repeated, answers the same object without committing anything.
        let again = try await engine.completeUpload(uploadId: id, parts: [(1, nil)], minimumPartSize: 0) { _, _ in
            CompletedObject(etag: "different")
        }
        #expect(again.etag == "abc-1" && again.sequence == record.sequence)
        #expect(try await engine.expireUploads(olderThan: 60_000) == 0)
        #expect(try engine.recentlyCompletedObject(uploadId: id, bucket: "videos", key: "k") != nil)
        try await Task.sleep(for: .milliseconds(20))
        _ = try await engine.expireUploads(olderThan: 10)
        #expect(try engine.recentlyCompletedObject(uploadId: id, bucket: "videos", key: "k") == nil)
        await #expect(throws: EngineError.noSuchUpload(id)) {
            _ = try await engine.completeUpload(uploadId: id, parts: [(1, nil)], minimumPartSize: 0) { _, _ in
                CompletedObject(etag: "x")
            }
        }
        #expect(try engine.fsck().isClean)
    }

    /// A bucket deleted while an upload into it was in progress: Complete fails with
    /// NoSuchBucket in its commit (the version plan's read of the bucket record) and changes nothing.
    @Test func completingIntoADeletedBucketIsNoSuchBucket() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("videos", owner: "t")
        let id = try await engine.createUpload(
            UploadRecord(bucket: "videos", key: "k", created: Engine.now(), metadata: ObjectMetadata(owner: "t")))
        _ = try await part(engine, id, 1, [1, 2, 3])
        try await engine.deleteBucket("videos")
        await #expect(throws: EngineError.noSuchBucket("videos")) {
            _ = try await engine.completeUpload(uploadId: id, parts: [(1, nil)], minimumPartSize: 0) { _, _ in
                CompletedObject(etag: "abc-1")
            }
        }
        #expect(try engine.upload(id) != nil)
        #expect(try engine.headObject(bucket: "videos", key: "k") == nil)
    }
}
