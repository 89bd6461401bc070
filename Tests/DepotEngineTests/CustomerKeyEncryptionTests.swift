import DepotHashing
import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// SSE-C in the engine: the client's key is the domain key of its objects, never stored; only a
/// salted HMAC of it tells the right key from a wrong one.
struct CustomerKeyEncryptionTests {
    static let customerKey = [UInt8](repeating: 0x42, count: 32)
    static let otherCustomerKey = [UInt8](repeating: 0x43, count: 32)

    func configuration(_ path: String) -> EngineConfiguration {
        var c = testConfiguration(path)
        c.encryption = EncryptionKeys(keys: ["k1": [UInt8](repeating: 7, count: 32)], defaultKeyId: "k1")
        return c
    }

    func putCustomer(_ engine: Engine, _ key: String, _ bytes: [UInt8], customerKey: [UInt8] = customerKey) async throws
        -> ObjectRecord
    {
        let session = try engine.startIngest(bucket: "ssec", key: key)
        let (encryption, domain) = CustomerKeyEncryption.newObject(customerKey: customerKey)
        session.encrypt(with: encryption, in: domain)
        try session.write(bytes)
        return try await session.commit(metadata: ObjectMetadata(owner: "tester"))
    }

    func read(_ engine: Engine, _ key: String, customerKey: [UInt8]?, range: Range<UInt64>? = nil) throws -> [UInt8] {
        try #require(try engine.openObject(bucket: "ssec", key: key, customerKey: customerKey)).readAll(range)
    }

    @Test func roundTripRangesAndTheKeyIsNeverStored() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("ssec", owner: "tester")
        var random = SplitMix64(seed: 31)
        let bytes = random.bytes(200_000)
        let record = try await putCustomer(engine, "secret", bytes)
        #expect(CustomerKeyEncryption.isCustomerKey(record.encryption))
        #expect(record.encryption?.algorithm == CustomerKeyEncryption.algorithm)
        #expect(try read(engine, "secret", customerKey: Self.customerKey) == bytes)
        #expect(
            try read(engine, "secret", customerKey: Self.customerKey, range: 12_345..<150_000) == Array(bytes[12_345..<150_000]))
        // Neither the key nor its hex form is in the record's metadata.
        let metadata = record.systemMetadata.map { "\($0.0)=\($0.1)" }.joined(separator: ",")
        #expect(!metadata.contains(Hex.encode(Self.customerKey)))
        #expect(!metadata.contains(Base64.encode(Self.customerKey)))
        // Two objects under the same key get different salts.
        let again = try await putCustomer(engine, "again", bytes)
        #expect(again.encryption?.keyId != record.encryption?.keyId)
        #expect(try engine.fsck().isClean, "fsck must not call SSE-C chunks corrupt")
    }

    @Test func aMissingOrWrongKeyIsRefusedBeforeAnyByte() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("ssec", owner: "tester")
        _ = try await putCustomer(engine, "secret", Array("customer secret".utf8))
        #expect(throws: CustomerKeyEncryption.Refusal.keyRequired) {
            _ = try engine.openObject(bucket: "ssec", key: "secret")
        }
        #expect(throws: CustomerKeyEncryption.Refusal.keyRequired) {
            _ = try engine.openObjectHead(bucket: "ssec", key: "secret")
        }
        #expect(throws: CustomerKeyEncryption.Refusal.wrongKey) {
            _ = try engine.openObject(bucket: "ssec", key: "secret", customerKey: Self.otherCustomerKey)
        }
    }

    @Test func noDeduplicationWithPlaintextSSES3OrAnotherCustomerKey() async throws {
        let dir = TemporaryDirectory()
        let engine = try Engine(configuration: configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("ssec", owner: "tester")
        var random = SplitMix64(seed: 32)
        let bytes = random.bytes(40_000)
        let first = try await putCustomer(engine, "one", bytes)
        let second = try await putCustomer(engine, "two", bytes)
        #expect(first.manifest == second.manifest, "the same customer key deduplicates")
        let plain = try await engine.put("ssec", "plain", bytes)
        let other = try await putCustomer(engine, "other", bytes, customerKey: Self.otherCustomerKey)
        let session = try engine.startIngest(bucket: "ssec", key: "sse-s3")
        try await session.encrypt(with: ObjectEncryption(algorithm: ObjectEncryption.sseS3, keyId: "k1"))
        try session.write(bytes)
        let sseS3 = try await session.commit(metadata: ObjectMetadata(owner: "tester"))
        let mine = Set(first.manifest.map(\.hash))
        for record in [plain, other, sseS3] { #expect(mine.isDisjoint(with: Set(record.manifest.map(\.hash)))) }
        #expect(try read(engine, "other", customerKey: Self.otherCustomerKey) == bytes)
        #expect(try engine.fsck().isClean)
    }

    @Test func rebuildIndexKeepsTheObjectReadableWithItsKey() async throws {
        let dir = TemporaryDirectory()
        var random = SplitMix64(seed: 33)
        let bytes = random.bytes(100_000)
        do {
            let engine = try Engine(configuration: configuration(dir.path))
            defer { engine.shutdown() }
            try await engine.createBucket("ssec", owner: "tester")
            _ = try await putCustomer(engine, "secret", bytes)
        }
        _ = system("rm -rf '\(configuration(dir.path).indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration(dir.path))
        #expect(report.problems.isEmpty, "\(report.problems)")
        let rebuilt = try Engine(configuration: configuration(dir.path))
        defer { rebuilt.shutdown() }
        #expect(try read(rebuilt, "secret", customerKey: Self.customerKey) == bytes)
        #expect(throws: CustomerKeyEncryption.Refusal.wrongKey) {
            _ = try rebuilt.openObject(bucket: "ssec", key: "secret", customerKey: Self.otherCustomerKey)
        }
        #expect(try rebuilt.fsck().isClean)
    }
}
