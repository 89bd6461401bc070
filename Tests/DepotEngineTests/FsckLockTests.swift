import DepotStorage
import Testing

@testable import DepotEngine
import TestRandomness

/// `fsck` reports every Object Lock it cannot prove (FsckLocks.swift): a lock in the index that the
/// version's commit record in the log does not carry, and a locked version whose chunks are gone.
struct FsckLockTests {
    @Test func locksWrittenOnlyIntoTheIndexAreReported() async throws {
        let directory = TemporaryDirectory()
        let engine = try Engine(configuration: testConfiguration(directory.path))
        defer { engine.shutdown() }
        var random = SplitMix64(seed: 16)
        try await engine.createBucket("evidence", owner: "o", objectLock: true)
        let plain = try await engine.put("evidence", "a", random.bytes(70_000))
        let retained = try await engine.put("evidence", "a", random.bytes(70_000))
        let held = try await engine.put("evidence", "b", random.bytes(70_000))
        // Locks set through the engine are logged, so they are proven.
        let until = Int64(1_900_000_000_000)
        _ = try await engine.updateObject(bucket: "evidence", key: "a", version: VersionSelector(retained.versionId!)!) {
            $0.lock = ObjectLockFields(mode: ObjectLockMode.compliance.rawValue, retainUntil: until)
        }
        _ = try await engine.updateObject(bucket: "evidence", key: "b", version: VersionSelector(held.versionId!)!) {
            $0.lock.legalHold = true
        }
        #expect(try engine.fsck().problems == [])

        let (versions, objects, chunks) = (engine.versionTable, engine.objects, engine.chunks)
        try engine.indexStore.write { txn in
            // A legal hold on a version whose log records never had one.
            var forged = try #require(try txn.version(versions, bucket: "evidence", key: "a", .order(plain.versionOrder)))
            forged.lock.legalHold = true
            try txn.putVersion(versions, bucket: "evidence", key: "a", forged)
            // A retention moved further than the log says, in both records of the current version.
            var extended = try #require(
                try txn.version(versions, bucket: "evidence", key: "a", .order(retained.versionOrder)))
            extended.lock.retainUntil = until + 86_400_000
            try txn.putVersion(versions, bucket: "evidence", key: "a", extended)
            try txn.putObject(objects, bucket: "evidence", key: "a", extended)
            // A held version whose chunk is gone.
            #expect(try txn.delete(chunks, held.manifest[0].hash))
        }
        let problems = try engine.fsck().problems
        let forgedHold = problems.filter { $0.contains("evidence/a version \(plain.versionId!)") }
        #expect(forgedHold.count == 1)
        #expect(forgedHold.first?.contains("legal hold true that no log record carries") == true)
        let forgedRetention = problems.filter { $0.contains("evidence/a version \(retained.versionId!)") }
        #expect(forgedRetention.count == 1, "reported once though both tables hold it: \(forgedRetention)")
        #expect(forgedRetention.first?.contains("retain-until \(until + 86_400_000)") == true)
        #expect(forgedRetention.first?.contains("holds mode 2, retain-until \(until), legal hold false") == true)
        #expect(
            problems.contains {
                $0.contains("evidence/b version \(held.versionId!) is locked but its chunk")
            })
    }
}
