import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Object Lock's rules (ObjectLockRules.swift): what a retention or legal hold forbids, and the
/// clock retentions are compared with, which never reads earlier than a time the index recorded.
struct ObjectLockTests {
    let now: Int64 = 1_800_000_000_000

    @Test func locksRefuseDeletionUntilTheyEnd() {
        let compliance = ObjectLockFields(mode: 2, retainUntil: now + 1000)
        #expect(compliance.deletionRefusal(bypassGovernance: true, now: now) != nil)
        #expect(compliance.deletionRefusal(bypassGovernance: false, now: now + 1000) == nil)
        let governance = ObjectLockFields(mode: 1, retainUntil: now + 1000)
        #expect(governance.deletionRefusal(bypassGovernance: false, now: now) != nil)
        #expect(governance.deletionRefusal(bypassGovernance: true, now: now) == nil)
        let held = ObjectLockFields(legalHold: true)
        #expect(held.deletionRefusal(bypassGovernance: true, now: now) != nil)
        #expect(ObjectLockFields().deletionRefusal(bypassGovernance: false, now: now) == nil)
    }

    @Test func retentionsOnlyGrowUnlessGovernanceIsBypassed() throws {
        let compliance = ObjectLockFields(mode: 2, retainUntil: now + 1000)
        #expect(
            try compliance.changingRetention(to: .compliance, until: now + 5000, bypassGovernance: false, now: now).retainUntil
                == now + 5000)
        #expect(throws: EngineError.self) {
            try compliance.changingRetention(to: .compliance, until: now + 500, bypassGovernance: true, now: now)
        }
        #expect(throws: EngineError.self) {
            try compliance.changingRetention(to: nil, until: nil, bypassGovernance: true, now: now)
        }
        #expect(throws: EngineError.self) {
            try compliance.changingRetention(to: .governance, until: now + 9000, bypassGovernance: true, now: now)
        }
        let governance = ObjectLockFields(mode: 1, retainUntil: now + 1000, legalHold: true)
        #expect(throws: EngineError.self) {
            try governance.changingRetention(to: nil, until: nil, bypassGovernance: false, now: now)
        }
        let removed = try governance.changingRetention(to: nil, until: nil, bypassGovernance: true, now: now)
        #expect(removed == ObjectLockFields(legalHold: true))
        // Governance may become compliance (a stronger lock) only by extending with the bypass; an
        // expired retention may be changed freely.
        #expect(
            try compliance.changingRetention(to: nil, until: nil, bypassGovernance: false, now: now + 1000) == ObjectLockFields())
    }

    /// The recorded time outlives a restart, and the wall clock behind it is not used: a clock set
    /// back gives the lock decisions no earlier time than one already seen.
    @Test func theLockClockNeverGoesBackAcrossRestarts() async throws {
        let directory = TemporaryDirectory()
        let configuration = testConfiguration(directory.path)
        let recorded = Engine.now() + 10 * 86_400_000
        do {
            let engine = try Engine(configuration: configuration)
            try await engine.createBucket("evidence", owner: "tester", objectLock: true)
            let before = try engine.lockNow()
            #expect(before >= Engine.now() - 1000 && before <= Engine.now())
            // A put in a locked bucket records the time it saw.
            try await engine.put("evidence", "a", [1, 2, 3])
            let meta = engine.meta
            let stored = try engine.indexStore.read { txn in try txn.get(meta, Engine.lockClockKey) }
            #expect(stored != nil)
            // As if an earlier run's clock had read ten days later than this one's.
            var w = BinaryWriter()
            w.u64(UInt64(recorded))
            try engine.indexStore.write { txn in try txn.put(meta, Engine.lockClockKey, w.bytes) }
            engine.shutdown()
        }
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        #expect(try engine.lockNow() >= recorded)
        // A GOVERNANCE retention ending before the recorded time has ended, though the wall clock is earlier.
        let session = try engine.startIngest(bucket: "evidence", key: "b")
        try session.write([4, 5, 6])
        var metadata = ObjectMetadata(owner: "tester")
        metadata.systemMetadata = ObjectLockRequest.pairs(
            mode: .compliance, retainUntil: Engine.now() + 86_400_000, legalHold: nil)
        let record = try await session.commit(metadata: metadata)
        #expect(record.lock.mode == ObjectLockMode.compliance.rawValue)
        #expect(record.systemMetadata.isEmpty)
        _ = try await engine.deleteObjectVersion(bucket: "evidence", key: "b", VersionSelector(record.versionId!)!)
        #expect(try engine.objectVersion(bucket: "evidence", key: "b", VersionSelector(record.versionId!)!) == nil)
        // One ending after it holds.
        let held = try await engine.updateObject(bucket: "evidence", key: "a") { record in
            record.lock = ObjectLockFields(mode: 2, retainUntil: recorded + 86_400_000)
        }
        await #expect(throws: EngineError.self) {
            _ = try await engine.deleteObjectVersion(bucket: "evidence", key: "a", VersionSelector(held.versionId!)!)
        }
    }

    /// Locked versions keep their bytes and their locks through compaction and a rebuild: a
    /// refused delete drops no reference, and a lock change is the version's newest commit record.
    @Test func compactionAndRebuildKeepLockedVersions() async throws {
        let directory = TemporaryDirectory()
        let configuration = testConfiguration(directory.path, segmentSize: 256 << 10)
        var random = SplitMix64(seed: 7)
        let future = Engine.now() + 5 * 86_400_000
        var expected: [String: [UInt8]] = [:]
        do {
            let engine = try Engine(configuration: configuration)
            try await engine.createBucket("evidence", owner: "o", objectLock: true)
            try await engine.setObjectLockConfiguration(
                bucket: "evidence", BucketObjectLock(defaultMode: ObjectLockMode.governance.rawValue, defaultDays: 1))
            var made: [(key: String, id: String)] = []
            for i in 0..<12 {
                let bytes = random.bytes(60_000 + i)
                let record = try await engine.put("evidence", "k-\(i % 3)", bytes)
                #expect(record.lock.mode == ObjectLockMode.governance.rawValue)
                made.append(("k-\(i % 3)", record.versionId!))
                expected["k-\(i % 3)#" + record.versionId!] = bytes
            }
            for (n, version) in made.enumerated() {
                if n % 2 == 0 {
                    try await engine.updateObject(bucket: "evidence", key: version.key, version: VersionSelector(version.id)!) {
                        $0.lock.legalHold = true
                    }
                }
                await #expect(throws: EngineError.self) {
                    _ = try await engine.deleteObjectVersion(bucket: "evidence", key: version.key, VersionSelector(version.id)!)
                }
            }
            // The bypass lifts GOVERNANCE but not a legal hold.
            let free = made[1]
            _ = try await engine.deleteObjectVersion(
                bucket: "evidence", key: free.key, VersionSelector(free.id)!, bypassGovernance: true)
            expected[free.key + "#" + free.id] = nil
            // A version made while the clock read five days later (as if it was set back since).
            try await engine.updateObject(bucket: "evidence", key: made[0].key, version: VersionSelector(made[0].id)!) {
                $0.created = future
            }
            _ = try await engine.compact(threshold: 1.0)
            for (name, bytes) in expected {
                let parts = name.split(separator: "#").map(String.init)
                let reader = try engine.openObject(bucket: "evidence", key: parts[0], version: VersionSelector(parts[1])!)
                #expect(try reader?.readAll() == bytes, "\(name)")
            }
            #expect(try engine.fsck().problems.isEmpty)
            engine.shutdown()
        }
        var before: [String] = []
        do {
            let engine = try Engine(configuration: configuration)
            try engine.dumpIndex { before.append($0) }
            engine.shutdown()
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        #expect(try Engine.rebuildIndex(configuration: configuration).problems.isEmpty)
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        var after: [String] = []
        try engine.dumpIndex { after.append($0) }
        #expect(after == before)
        #expect(before.filter { $0.hasPrefix("version ") && $0.contains(":true manifest") }.count == 6)
        #expect(before.contains { $0.hasPrefix("bucket evidence") && $0.contains("objectLock=1:1d:0y") })
        // The rebuilt index's lock clock starts at the latest time a version records.
        #expect(try engine.lockNow() >= future)
    }
}
