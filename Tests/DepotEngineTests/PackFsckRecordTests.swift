import DepotHashing
import DepotStorage
import Testing

@testable import DepotEngine

/// Cluster fsck's check of one chunk record read back from a pack (PackFsck.swift): a whole
/// record of the chunk passes; a short read, a flipped byte, another record and a payload that
/// is not its SHA-256 are each named.
struct PackFsckRecordTests {
    static func record(_ payload: [UInt8], hash: [UInt8], kind: RecordKind = .chunk) -> [UInt8] {
        let header = payload.withUnsafeBytes { RecordHeader.encode(kind: kind, sequence: 0, hash: hash, payload: $0) }
        return header + payload
    }

    @Test func aRecordReadBackIsCheckedAgainstTheIndexEntry() {
        let payload = (0..<5000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let hash = payload.withUnsafeBytes { DigestAlgorithm.sha256.hash($0) }
        let options = PackFsckOptions()
        let good = Self.record(payload, hash: hash)
        #expect(Engine.checkRecord(good, hash: hash, length: payload.count, options: options) == nil)

        let short = Engine.checkRecord(Array(good.prefix(1000)), hash: hash, length: payload.count, options: options)
        #expect(short?.contains("the pack ends after 1000") == true)

        var flipped = good
        flipped[RecordHeader.size + 100] ^= 1
        #expect(Engine.checkRecord(flipped, hash: hash, length: payload.count, options: options)?.contains("CRC") == true)

        let otherHash = [UInt8](repeating: 9, count: 32)
        let other = Self.record(payload, hash: otherHash)
        #expect(Engine.checkRecord(other, hash: hash, length: payload.count, options: options)?.contains("holds chunk") == true)

        // A record whose bytes are not its hash's SHA-256: an encrypted chunk passes when the
        // check is off (its hash is an address), and is named when it is on.
        let sealedLike = Self.record(payload, hash: otherHash)
        #expect(
            Engine.checkRecord(sealedLike, hash: otherHash, length: payload.count, options: options)?.contains("SHA-256")
                == true)
        var encrypted = options
        encrypted.verifyContentHash = false
        #expect(Engine.checkRecord(sealedLike, hash: otherHash, length: payload.count, options: encrypted) == nil)

        let commit = Self.record(payload, hash: hash, kind: .objectCommit)
        #expect(
            Engine.checkRecord(commit, hash: hash, length: payload.count, options: options)?.contains("not this chunk") == true)
    }
}
