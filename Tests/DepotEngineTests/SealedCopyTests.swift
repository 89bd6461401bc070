import DepotHashing
import Testing

@testable import DepotEngine
import TestRandomness

/// A sealed copy (SealedCopy.swift) as a tier would hold it, put together from `sealedPayload`
/// and the trailer, opens back to the object with the domain of its key id, chunk by chunk, and
/// carries no plaintext; a changed byte fails the chunk's tag.
struct SealedCopyTests {
    @Test func sealedCopyOpensBackAndHoldsNoPlaintext() async throws {
        let dir = TemporaryDirectory()
        let sse = ServerSideEncryptionTests()
        let engine = try Engine(configuration: sse.configuration(dir.path))
        defer { engine.shutdown() }
        try await engine.createBucket("sealed", owner: "tester")
        var random = SplitMix64(seed: 5)
        let bytes = random.bytes(200_000)
        let record = try await sse.putEncrypted(engine, "sealed", "k", bytes, keyId: "k2")
        #expect(record.manifest.count > 1)

        let reader = try #require(try engine.openObject(bucket: "sealed", key: "k", sealed: true))
        let wrapped = try #require(try engine.wrappedDataKey(keyId: "k2"))
        let trailer = SealedCopy.trailer(record, wrappedDataKey: wrapped)
        var copy = SealedCopy.magic
        for index in record.manifest.indices { copy += try reader.sealedPayload(index) }
        copy += trailer
        #expect(UInt64(copy.count) == SealedCopy.size(record, trailerCount: trailer.count))
        #expect(!copy.contains(subsequence: Array(bytes[1000..<1064])))
        let text = String(decoding: trailer.dropLast(20), as: UTF8.self)
        #expect(text.contains("\"keyId\":\"k2\"") && text.contains("\"wrappedDataKey\":\"\(Base64.encode(wrapped))\""))

        let domain = try #require(try engine.sealedCopyDomain(of: record))
        var opened: [UInt8] = []
        for (index, range) in SealedCopy.payloadRanges(record).enumerated() {
            let payload = Array(copy[Int(range.lowerBound)..<Int(range.upperBound)])
            opened += try domain.openSealedPayload(payload, address: record.manifest[index].hash)
        }
        #expect(opened == bytes)

        let first = SealedCopy.payloadRanges(record)[0]
        var payload = Array(copy[Int(first.lowerBound)..<Int(first.upperBound)])
        payload[10] ^= 1
        #expect(throws: EngineError.self) { try domain.openSealedPayload(payload, address: record.manifest[0].hash) }
    }
}

extension Array where Element == UInt8 {
    fileprivate func contains(subsequence needle: [UInt8]) -> Bool {
        guard needle.count <= count else { return false }
        return (0...(count - needle.count)).contains { Array(self[$0..<$0 + needle.count]) == needle }
    }
}
