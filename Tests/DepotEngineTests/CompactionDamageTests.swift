import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Compaction of a sealed segment with a damaged record in the middle (Compaction.swift): the
/// verifying scan used to stop there and the segment was retired anyway, losing every live
/// record after the damage. Now nothing live is lost, the segment stays, and fsck names it.
struct CompactionDamageTests {
    struct Stored {
        var bytes: [UInt8]
        var hashes: Set<[UInt8]>
    }

    /// Sealed segments of small objects (one or two chunks each) and their commit records; every
    /// third object deleted, so segment 1 holds live and dead records and tombstones.
    static func sealedSegments(_ dir: TemporaryDirectory) async throws -> (Engine, [String: Stored]) {
        let engine = try Engine(configuration: testConfiguration(dir.path, segmentSize: 1 << 20))
        try await engine.createBucket("cams", owner: "tester")
        var random = SplitMix64(seed: 23)
        var stored: [String: Stored] = [:]
        for i in 0..<90 {
            let bytes = random.bytes(20_000 + i * 97)
            let record = try await engine.put("cams", "clip\(i)", bytes)
            stored["clip\(i)"] = Stored(bytes: bytes, hashes: Set(record.manifest.map(\.hash)))
        }
        for i in stride(from: 0, to: 90, by: 3) {
            try await engine.deleteObject(bucket: "cams", key: "clip\(i)")
            stored["clip\(i)"] = nil
        }
        #expect(engine.store.activeSegmentId > 2)
        return (engine, stored)
    }

    /// Damages one payload byte of the first live chunk record of segment 1 that has live chunk
    /// records and object commit records after it; returns that record.
    static func damageALiveChunk(_ engine: Engine) throws -> (victim: ScannedRecord, after: [ScannedRecord]) {
        var records: [ScannedRecord] = []
        _ = try SegmentScanner.scan(path: engine.store.path(of: 1), segment: 1) { records.append($0) }
        let table = engine.chunks
        let live = try records.map { record in
            try record.header.kind == .chunk
                && engine.indexStore.read { txn in
                    try txn.get(table, record.header.hash).map(ChunkEntry.decode)?.location == record.location
                }
        }
        let index = try #require(
            records.indices.first { i in
                live[i] && i >= records.count / 3 && live[(i + 1)...].contains(true)
                    && records[(i + 1)...].contains { $0.header.kind == .objectCommit }
            })
        let victim = records[index]
        let fd = open(engine.store.path(of: 1), O_RDWR)
        #expect(fd >= 0)
        let at = off_t(victim.location.payloadOffset) + off_t(victim.payload.count / 2)
        var byte: UInt8 = 0
        #expect(pread(fd, &byte, 1, at) == 1)
        byte ^= 0x5A
        #expect(pwrite(fd, &byte, 1, at) == 1)
        close(fd)
        let after = records.indices.filter { $0 > index && live[$0] }.map { records[$0] }
        return (victim, after)
    }

    @Test func aDamagedLiveRecordLosesNothingElseAndKeepsTheSegment() async throws {
        let dir = TemporaryDirectory()
        let (engine, stored) = try await Self.sealedSegments(dir)
        defer { engine.shutdown() }
        let (victim, after) = try Self.damageALiveChunk(engine)
        let damagedKeys = Set(stored.filter { $0.value.hashes.contains(victim.header.hash) }.keys)
        #expect(damagedKeys.count == 1)
        // fsck reads past the damage: the intact live records after it are not called lost.
        let before = try engine.fsck()
        #expect(before.problems.contains { $0.hasPrefix("segment 1: the record at offset \(victim.location.offset) ") })
        for record in after {
            #expect(!before.problems.contains { $0.contains("\(record.location)") }, "\(record.location)")
        }

        let report = try await engine.compact(threshold: 1.0)
        let problem = try #require(report.problems.first { $0.contains("segment 1 ") })
        #expect(problem.contains("offset \(victim.location.offset)"), "\(problem)")
        #expect(engine.store.segmentIds.contains(1))
        #expect(access(engine.store.path(of: 1), F_OK) == 0)
        // The intact live chunk records after the damage were copied out of segment 1.
        let table = engine.chunks
        for record in after {
            let now = try engine.indexStore.read { txn in
                try txn.get(table, record.header.hash).map(ChunkEntry.decode)?.location
            }
            #expect(now != nil && now?.segment != 1, "\(record.location) -> \(String(describing: now))")
        }
        for (key, object) in stored where !damagedKeys.contains(key) {
            #expect(try engine.get("cams", key) == object.bytes, "\(key)")
        }
        // The next pass finds nothing more to copy there and says so again, without piling up copies.
        let again = try await engine.compact(threshold: 1.0)
        #expect(again.problems.contains { $0.contains("segment 1 ") && $0.contains("offset \(victim.location.offset)") })
        #expect(engine.store.segmentIds.contains(1))

        let fsck = try engine.fsck()
        #expect(
            fsck.problems.contains {
                $0.hasPrefix("segment 1: the record at offset \(victim.location.offset) fails its CRC check")
            }, "\(fsck.problems)")
        let key = try #require(damagedKeys.first)
        #expect(
            fsck.problems.contains {
                $0.hasPrefix("object cams/\(key): its chunk") && $0.contains("segment 1 at offset \(victim.location.offset)")
            }, "\(fsck.problems)")
    }

    /// The commit records after the damage stay in the kept segment, so a rebuild of the index
    /// still finds every object but the damaged one.
    @Test func aRebuildAfterCompactingPastDamageFindsEveryOtherObject() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path, segmentSize: 1 << 20)
        var stored: [String: Stored] = [:]
        var damagedKeys: Set<String> = []
        do {
            let (engine, objects) = try await Self.sealedSegments(dir)
            stored = objects
            let (victim, _) = try Self.damageALiveChunk(engine)
            damagedKeys = Set(stored.filter { $0.value.hashes.contains(victim.header.hash) }.keys)
            _ = try await engine.compact(threshold: 1.0)
            engine.shutdown()
        }
        _ = system("rm -rf '\(configuration.indexDirectory)'")
        let report = try Engine.rebuildIndex(configuration: configuration)
        #expect(report.problems.contains { $0.hasPrefix("segment 1: the record at offset") }, "\(report.problems)")
        let engine = try Engine(configuration: configuration)
        defer { engine.shutdown() }
        for (key, object) in stored where !damagedKeys.contains(key) {
            #expect(try engine.get("cams", key) == object.bytes, "\(key)")
        }
    }

    /// Damage that runs to the end of the file looks like a torn tail (nothing intact follows), but
    /// the index still counts a live chunk there: the segment stays, and fsck names the object.
    @Test func aLiveChunkInBadBytesAtTheEndKeepsTheSegment() async throws {
        let dir = TemporaryDirectory()
        let (engine, stored) = try await Self.sealedSegments(dir)
        defer { engine.shutdown() }
        let (victim, after) = try Self.damageALiveChunk(engine)
        let lost = Set(stored.filter { object in after.contains { object.value.hashes.contains($0.header.hash) } }.keys)
            .union(stored.filter { $0.value.hashes.contains(victim.header.hash) }.keys)
        // Everything from the damaged record to the end of the file is unreadable.
        let path = engine.store.path(of: 1)
        let end = UInt64(engine.store.size(of: 1))
        HolePunchingTests.overwrite(
            engine, segment: 1, at: victim.location.payloadOffset,
            with: [UInt8](repeating: 0, count: Int(end - victim.location.payloadOffset)))

        let report = try await engine.compact(threshold: 1.0)
        let problem = try #require(report.problems.first { $0.contains("segment 1 ") })
        #expect(problem.contains("the scan stopped at offset \(victim.location.offset)"), "\(problem)")
        #expect(access(path, F_OK) == 0)
        for (key, object) in stored where !lost.contains(key) {
            #expect(try engine.get("cams", key) == object.bytes, "\(key)")
        }
        let fsck = try engine.fsck()
        for key in lost {
            #expect(
                fsck.problems.contains { $0.hasPrefix("object cams/\(key): its chunk") && $0.contains("segment 1 at offset") },
                "\(key): \(fsck.problems)")
        }
    }

    /// Bad bytes at the end that hold no live chunk but the commit record of a current object:
    /// the object still reads, but a rebuild would lose it, so the segment is not let go silently.
    @Test func aCurrentCommitRecordInBadBytesAtTheEndKeepsTheSegment() async throws {
        let dir = TemporaryDirectory()
        let (engine, stored) = try await Self.sealedSegments(dir)
        defer { engine.shutdown() }
        var records: [ScannedRecord] = []
        _ = try SegmentScanner.scan(path: engine.store.path(of: 1), segment: 1) { records.append($0) }
        let objectTable = engine.objects
        let (index, key) = try #require(
            try records.indices.reversed().lazy.compactMap { i -> (Int, String)? in
                guard i >= records.count / 2, records[i].header.kind == .objectCommit,
                    case .some(.objectCommit(_, let key, _)) = try LogPayload.decode(
                        kind: .objectCommit, payload: records[i].payload),
                    try engine.indexStore.read({ txn in
                        try txn.object(objectTable, bucket: "cams", key: key, withManifest: false)?.commitLocation
                    }) == records[i].location
                else { return nil }
                return (i, key)
            }.first)
        let victim = records[index].location
        // The objects stored after it go, so no live chunk is left in the bytes about to go bad.
        let later = Set(records[(index + 1)...].filter { $0.header.kind == .chunk }.map(\.header.hash))
        var kept = stored
        for (name, object) in stored where !object.hashes.isDisjoint(with: later) {
            try await engine.deleteObject(bucket: "cams", key: name)
            kept[name] = nil
        }
        let end = UInt64(engine.store.size(of: 1))
        HolePunchingTests.overwrite(
            engine, segment: 1, at: victim.payloadOffset, with: [UInt8](repeating: 0, count: Int(end - victim.payloadOffset)))

        let report = try await engine.compact(threshold: 1.0)
        let problem = try #require(report.problems.first { $0.contains("segment 1 ") })
        #expect(problem.contains("the scan stopped at offset \(victim.offset)"), "\(problem)")
        #expect(problem.contains("the commit record of cams/\(key)"), "\(problem)")
        #expect(access(engine.store.path(of: 1), F_OK) == 0)
        for (name, object) in kept {
            #expect(try engine.get("cams", name) == object.bytes, "\(name)")
        }
        let fsck = try engine.fsck()
        #expect(
            fsck.problems.contains { $0.hasPrefix("object cams/\(key): its commit record \(victim) lies in damaged bytes") },
            "\(fsck.problems)")
    }

    /// A torn tail (a crash in the middle of an append) is no damage: nothing intact follows it,
    /// and compaction still retires the segment.
    @Test func aTornTailStillLetsTheSegmentGo() async throws {
        let dir = TemporaryDirectory()
        let (engine, stored) = try await Self.sealedSegments(dir)
        defer { engine.shutdown() }
        let fd = open(engine.store.path(of: 1), O_WRONLY | O_APPEND)
        let junk = [UInt8](repeating: 0x44, count: 300)
        #expect(write(fd, junk, junk.count) == junk.count)
        close(fd)
        let report = try await engine.compact(threshold: 1.0)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(!engine.store.segmentIds.contains(1))
        for (key, object) in stored {
            #expect(try engine.get("cams", key) == object.bytes, "\(key)")
        }
        #expect(try engine.fsck().isClean)
    }
}
