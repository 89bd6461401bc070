import DepotHashing
import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// SSE-S3/SSE-KMS in the engine: chunks of an encrypted object are sealed with AES-256-GCM in
/// the domain of their master key, known by a domain address instead of their SHA-256.
struct ServerSideEncryptionTests {
    static let masterKey = [UInt8](repeating: 7, count: 32)
    static let otherKey = [UInt8](repeating: 9, count: 32)

    func configuration(_ path: String, segmentSize: Int = 1 << 20) -> EngineConfiguration {
        var c = testConfiguration(path, segmentSize: segmentSize)
        c.encryption = EncryptionKeys(keys: ["k1": Self.masterKey, "k2": Self.otherKey], defaultKeyId: "k1")
        return c
    }

    func putEncrypted(
        _ engine: Engine, _ bucket: String, _ key: String, _ bytes: [UInt8], keyId: String = "k1"
    ) async throws -> ObjectRecord {
        let session = try engine.startIngest(bucket: bucket, key: key)
        try await session.encrypt(with: ObjectEncryption(algorithm: ObjectEncryption.sseS3, keyId: keyId))
        var offset = 0
        while offset < bytes.count {
            let end = min(bytes.count, offset + 7001)
            try session.write(Array(bytes[offset..<end]))
            offset = end
        }
        return try await session.commit(metadata: ObjectMetadata(owner: "tester"))
    }

    func chunkCount(_ engine: Engine) throws -> Int {
        try engine.dump().filter { $0.hasPrefix("chunk ") }.count
    }

    @Test func roundTripAndRangesAcrossChunkBoundaries() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("sse", owner: "tester")
        var random = SplitMix64(seed: 11)
        let bytes = random.bytes(300_000)
        let record = try await putEncrypted(engine, "sse", "secret", bytes)
        #expect(record.encryption == ObjectEncryption(algorithm: "AES256", keyId: "k1"))
        #expect(record.manifest.count > 3)
        let reader = try #require(try engine.openObject(bucket: "sse", key: "secret"))
        #expect(try reader.readAll() == bytes)
        // Ranges that start and end inside chunks and straddle their boundaries.
        var start: UInt64 = 0
        for ref in record.manifest.dropLast() {
            let boundary = start + UInt64(ref.length)
            let range = (boundary - 100)..<(boundary + 100)
            #expect(try reader.readAll(range) == Array(bytes[Int(range.lowerBound)..<Int(range.upperBound)]))
            start = boundary
        }
        // The same range through the async sequence every front door uses.
        var streamed: [UInt8] = []
        for try await piece in try reader.bytes(1000..<250_000, maxPiece: 5000) {
            var buffer = [UInt8](repeating: 0, count: piece.count)
            try buffer.withUnsafeMutableBytes { try piece.copy(into: $0) }
            streamed += buffer
        }
        #expect(streamed == Array(bytes[1000..<250_000]))
        // No plaintext hash in the manifest: none of the chunks' SHA-256 appears.
        var offset = 0
        for ref in record.manifest {
            let plainHash = DigestAlgorithm.sha256.hash(Array(bytes[offset..<offset + Int(ref.length)]))
            #expect(ref.hash != plainHash)
            offset += Int(ref.length)
        }
        #expect(try engine.fsck().isClean)
    }

    @Test func identicalObjectsDeduplicateWithinADomainButNeverWithPlaintextOrAnotherDomain() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("sse", owner: "tester")
        var random = SplitMix64(seed: 12)
        let bytes = random.bytes(40_000)
        let first = try await putEncrypted(engine, "sse", "one", bytes)
        let afterFirst = try chunkCount(engine)
        let second = try await putEncrypted(engine, "sse", "two", bytes)
        #expect(first.manifest == second.manifest)
        #expect(try chunkCount(engine) == afterFirst)
        let plain = try await engine.put("sse", "plain", bytes)
        #expect(Set(plain.manifest.map(\.hash)).isDisjoint(with: Set(first.manifest.map(\.hash))))
        #expect(try chunkCount(engine) == 2 * afterFirst)
        let other = try await putEncrypted(engine, "sse", "other", bytes, keyId: "k2")
        #expect(Set(other.manifest.map(\.hash)).isDisjoint(with: Set(first.manifest.map(\.hash))))
        #expect(try chunkCount(engine) == 3 * afterFirst)
        for key in ["one", "two", "plain", "other"] { #expect(try engine.get("sse", key) == bytes) }
        #expect(try engine.openObject(bucket: "sse", key: "plain")?.record.encryption == nil)
        let report = try engine.fsck()
        #expect(report.isClean, "\(report.problems)")
    }

    @Test func aFlippedCiphertextByteFailsTheReadAndFsck() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("sse", owner: "tester")
        var random = SplitMix64(seed: 13)
        let bytes = random.bytes(20_000)
        _ = try await putEncrypted(engine, "sse", "secret", bytes)
        #expect(try engine.get("sse", "secret") == bytes)
        let reader = try #require(try engine.openObject(bucket: "sse", key: "secret"))
        let location = try #require(reader.plan(0..<1).first?.location)
        // Flip one byte of the ciphertext.
        let path = "\(dir.path)/segments/" + String(format: "%08u", location.segment) + ".seg"
        let fd = open(path, O_RDWR)
        #expect(fd >= 0)
        var header = [UInt8](repeating: 0, count: RecordHeader.size)
        #expect(pread(fd, &header, header.count, off_t(location.offset)) == header.count)
        var payload = [UInt8](repeating: 0, count: Int(location.length))
        #expect(pread(fd, &payload, payload.count, off_t(location.payloadOffset)) == payload.count)
        payload[10] ^= 0x01
        #expect(pwrite(fd, payload, payload.count, off_t(location.payloadOffset)) == payload.count)
        close(fd)
        let fresh = try #require(try engine.openObject(bucket: "sse", key: "secret"))
        // The record CRC is left stale on purpose: reads do not check it, so the tag must.
        do {
            _ = try fresh.readAll()
            Issue.record("a changed ciphertext byte was read back")
        } catch {
            #expect("\(error)".contains("authentication tag"), "\(error)")
        }
        #expect(!(try engine.fsck().isClean))
    }

    @Test func rebuildIndexRestoresTheDataKeyAndObjectsReadBack() async throws {
        let dir = TemporaryDirectory()
        var random = SplitMix64(seed: 14)
        let bytes = random.bytes(100_000)
        do {
            let engine = try Engine(configuration: configuration(dir.path))
            defer { engine.shutdown() }
            try await engine.createBucket("sse", owner: "tester")
            _ = try await putEncrypted(engine, "sse", "secret", bytes)
            _ = try await putEncrypted(engine, "sse", "kms", bytes, keyId: "k2")
            _ = try await engine.put("sse", "plain", bytes)
        }
        _ = system("rm -rf '\(configuration(dir.path).indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration(dir.path))
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.objects == 3)
        let rebuilt = try Engine(configuration: configuration(dir.path))
        defer { rebuilt.shutdown() }
        for key in ["secret", "kms", "plain"] { #expect(try rebuilt.get("sse", key) == bytes) }
        #expect(try rebuilt.fsck().isClean)
        // Compaction keeps the domain records: after it, a second rebuild still reads back.
        _ = try await rebuilt.deleteObject(bucket: "sse", key: "plain")
        _ = try await rebuilt.compact(threshold: 1.0)
        #expect(try rebuilt.get("sse", "secret") == bytes)
        rebuilt.shutdown()
    }

    @Test func compactionKeepsTheDataKeyRecordForALaterRebuild() async throws {
        let dir = TemporaryDirectory()
        var random = SplitMix64(seed: 15)
        let bytes = random.bytes(100_000)
        do {
            // Tiny segments: the domain record's segment is retired by compaction.
            let engine = try Engine(configuration: configuration(dir.path, segmentSize: 64 << 10))
            defer { engine.shutdown() }
            try await engine.createBucket("sse", owner: "tester")
            _ = try await putEncrypted(engine, "sse", "gone", random.bytes(50_000))
            _ = try await putEncrypted(engine, "sse", "kept", bytes)
            _ = try await engine.deleteObject(bucket: "sse", key: "gone")
            // The domain's log record is one compaction must copy out of a segment it retires.
            var domainRecords = 0
            for id in engine.store.segmentIds {
                _ = try SegmentScanner.scan(path: engine.store.path(of: id), segment: id) { record in
                    guard record.header.kind == .encryptionDomain else { return }
                    domainRecords += 1
                    let keeps = try engine.compactionKeeps(record)
                    #expect(keeps)
                }
            }
            #expect(domainRecords == 1)
            _ = try await engine.compact(threshold: 1.0)
            #expect(try engine.get("sse", "kept") == bytes)
        }
        _ = system("rm -rf '\(configuration(dir.path).indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration(dir.path))
        #expect(report.problems.isEmpty, "\(report.problems)")
        let rebuilt = try Engine(configuration: configuration(dir.path))
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.get("sse", "kept") == bytes)
    }

    @Test func aCopyByReferenceKeepsItsSourceDomainAndAnotherDomainIsRefused() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("sse", owner: "tester")
        var random = SplitMix64(seed: 16)
        let bytes = random.bytes(50_000)
        _ = try await putEncrypted(engine, "sse", "source", bytes)
        // The maker forgets the encryption: the copy would read ciphertext as plaintext.
        await #expect(throws: EngineError.self) {
            _ = try await engine.copyObject(from: ("sse", "source"), to: ("sse", "plain-copy")) { original in
                var record = original
                record.systemMetadata = ObjectRecord.replacingEncryption(record.systemMetadata, with: nil)
                return record
            }
        }
        await #expect(throws: EngineError.self) {
            _ = try await engine.copyObject(from: ("sse", "source"), to: ("sse", "k2-copy")) { original in
                var record = original
                record.systemMetadata = ObjectRecord.replacingEncryption(
                    record.systemMetadata, with: ObjectEncryption(algorithm: "aws:kms", keyId: "k2"))
                return record
            }
        }
        #expect(try engine.openObject(bucket: "sse", key: "plain-copy") == nil)
        // Same domain, another algorithm label: shared chunks, read back decrypted.
        let copy = try await engine.copyObject(from: ("sse", "source"), to: ("sse", "kms-copy")) { original in
            var record = original
            record.systemMetadata = ObjectRecord.replacingEncryption(
                record.systemMetadata, with: ObjectEncryption(algorithm: "aws:kms", keyId: "k1"))
            return record
        }
        #expect(copy.encryption == ObjectEncryption(algorithm: "aws:kms", keyId: "k1"))
        #expect(try engine.get("sse", "kms-copy") == bytes)
        #expect(try engine.fsck().isClean)
    }

    @Test func rotationRewrapsTheDataKeyWithoutRewritingObjects() async throws {
        let dir = TemporaryDirectory()
        var random = SplitMix64(seed: 17)
        let bytes = random.bytes(80_000)
        var manifest: [ChunkRef] = []
        do {
            let engine = try Engine(configuration: configuration(dir.path))
            defer { engine.shutdown() }
            try await engine.createBucket("sse", owner: "tester")
            manifest = try await putEncrypted(engine, "sse", "secret", bytes).manifest
        }
        let newKey = [UInt8](repeating: 42, count: 32)
        var rotating = configuration(dir.path)
        rotating.encryption.keys["k1"] = newKey
        rotating.encryption.previousKeys["k1"] = [Self.masterKey]
        do {
            let engine = try Engine(configuration: rotating)
            defer { engine.shutdown() }
            // The previous key still opens the data key before the rewrap...
            #expect(try engine.get("sse", "secret") == bytes)
            #expect(try await engine.rewrapEncryptionDomains() == ["k1"])
            #expect(try await engine.rewrapEncryptionDomains() == [])
            // ...and new objects share the same domain (the data key did not change).
            #expect(try await putEncrypted(engine, "sse", "again", bytes).manifest == manifest)
        }
        var rotated = configuration(dir.path)
        rotated.encryption.keys["k1"] = newKey
        do {
            let engine = try Engine(configuration: rotated)
            defer { engine.shutdown() }
            #expect(try engine.get("sse", "secret") == bytes)
            #expect(try engine.fsck().isClean)
        }
        // A rebuilt index takes the newest data key record: the one the new key opens.
        _ = system("rm -rf '\(rotated.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: rotated)
        #expect(report.problems.isEmpty, "\(report.problems)")
        let rebuilt = try Engine(configuration: rotated)
        defer { rebuilt.shutdown() }
        #expect(try rebuilt.get("sse", "secret") == bytes)
    }

    @Test func aWrongMasterKeyCannotOpenTheDomain() async throws {
        let dir = TemporaryDirectory()
        do {
            let engine = try Engine(configuration: configuration(dir.path))
            defer { engine.shutdown() }
            try await engine.createBucket("sse", owner: "tester")
            _ = try await putEncrypted(engine, "sse", "secret", [1, 2, 3])
        }
        var wrong = configuration(dir.path)
        wrong.encryption = EncryptionKeys(keys: ["k1": Self.otherKey], defaultKeyId: "k1")
        let engine = try Engine(configuration: wrong)
        defer { engine.shutdown() }
        #expect(throws: EngineError.self) { _ = try engine.openObject(bucket: "sse", key: "secret") }
    }
}
