import DepotStorage
import Glibc
import Testing

@testable import DepotEngine
import TestRandomness

/// Hole punching finds dead records by walking record headers only (HolePunching.swift,
/// SegmentHeaderWalk.swift); these tests pin that down and the checks that keep an unverified
/// header from ever punching live bytes.
struct HolePunchingTests {
    /// One chunk record of a sealed segment as written, with whether the index keeps it live.
    struct Written {
        var location: RecordLocation
        var payload: [UInt8]
        var live: Bool
    }

    /// Two sealed segments holding big (several chunks) and small (one chunk under 8 KiB, never
    /// punched) objects; every small object and every other big one is deleted, so the
    /// segments stay above the punching mark even after their big dead records are punched.
    static func sealedSegmentsWithDeadRecords(_ dir: TemporaryDirectory) async throws -> Engine {
        let engine = try Engine(configuration: testConfiguration(dir.path, segmentSize: 1 << 20))
        try await engine.createBucket("cams", owner: "tester")
        var random = SplitMix64(seed: 17)
        for i in 0..<24 {
            try await engine.put("cams", "big\(i)", random.bytes(100_000))
            try await engine.put("cams", "small\(i)", random.bytes(6000))
        }
        for i in 0..<24 {
            try await engine.deleteObject(bucket: "cams", key: "small\(i)")
            if i % 2 == 1 { try await engine.deleteObject(bucket: "cams", key: "big\(i)") }
        }
        #expect(engine.store.activeSegmentId > 2)
        return engine
    }

    /// The chunk records of a segment, read with the full verifying scan (before any damage).
    static func written(_ engine: Engine, segment: UInt32) throws -> [Written] {
        var records: [ScannedRecord] = []
        _ = try SegmentScanner.scan(path: engine.store.path(of: segment), segment: segment) {
            if $0.header.kind == .chunk { records.append($0) }
        }
        let table = engine.chunks
        return try records.map { record in
            let liveAt = try engine.indexStore.read { txn in
                try txn.get(table, record.header.hash).map(ChunkEntry.decode)?.location
            }
            return Written(location: record.location, payload: record.payload, live: liveAt == record.location)
        }
    }

    /// Whether punching gives back at least one whole block of this record.
    static func punchable(_ record: Written) -> Bool {
        guard !record.live, record.location.length >= 8192 else { return false }
        let start = (record.location.payloadOffset + 4095) / 4096 * 4096
        return (record.location.payloadOffset + UInt64(record.location.length)) / 4096 * 4096 > start
    }

    static func overwrite(_ engine: Engine, segment: UInt32, at offset: UInt64, with bytes: [UInt8]) {
        let fd = open(engine.store.path(of: segment), O_WRONLY)
        #expect(fd >= 0)
        #expect(pwrite(fd, bytes, bytes.count, off_t(offset)) == bytes.count)
        close(fd)
    }

    @Test func aCorruptedLivePayloadNeitherStopsPunchingNorIsTouched() async throws {
        let dir = TemporaryDirectory()
        let engine = try await Self.sealedSegmentsWithDeadRecords(dir)
        defer { engine.shutdown() }
        let records = try Self.written(engine, segment: 1)
        // Damage a live payload that has punchable dead records after it.
        let victimIndex = try #require(
            records.indices.first { i in records[i].live && records[(i + 1)...].contains(where: Self.punchable) })
        let victim = records[victimIndex].location
        var damaged = records[victimIndex].payload
        damaged[damaged.count / 2] ^= 0xFF
        Self.overwrite(
            engine, segment: 1, at: victim.payloadOffset + UInt64(damaged.count / 2), with: [damaged[damaged.count / 2]])
        // The verifying scan (fsck, rebuild) stops at the damage; the punch pass must not.
        let summary = try SegmentScanner.scan(path: engine.store.path(of: 1), segment: 1) { _ in }
        #expect(summary.validEnd <= Int(victim.offset))

        guard let punched = try await engine.punchDeadRecords(progress: { _ in }) else { return }  // no punching here
        #expect(punched > 0)
        for record in records[(victimIndex + 1)...] where Self.punchable(record) {
            #expect(engine.store.wasDiscarded(record.location), "\(record.location)")
        }
        for (i, record) in records.enumerated() where record.live {
            #expect(!engine.store.wasDiscarded(record.location))
            #expect(try engine.store.readPayload(record.location) == (i == victimIndex ? damaged : record.payload))
        }
    }

    @Test func aForgedLengthThatBreaksTheWalkStopsPunchingThere() async throws {
        let dir = TemporaryDirectory()
        let engine = try await Self.sealedSegmentsWithDeadRecords(dir)
        defer { engine.shutdown() }
        let records = try Self.written(engine, segment: 1)
        let otherSegment = try Self.written(engine, segment: 2)
        // A dead record with live and dead records after it now claims to end in the middle
        // of the next record's payload.
        let forgedIndex = try #require(
            records.indices.first { i in
                i > 0 && i + 2 < records.count && !records[i].live
                    && records[(i + 1)...].contains { $0.live } && records[(i + 1)...].contains(where: Self.punchable)
            })
        let forged = records[forgedIndex].location
        let next = records[forgedIndex + 1].location
        let length = UInt32(next.offset - forged.payloadOffset) + UInt32(RecordHeader.size) + next.length / 2
        Self.overwrite(engine, segment: 1, at: forged.offset + 8, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })

        guard let punched = try await engine.punchDeadRecords(progress: { _ in }) else { return }
        // The other sealed segment is punched as usual; in this one nothing at or after the
        // forged header is (the live records after it were not seen, so nothing in it is).
        #expect(punched > 0)
        #expect(otherSegment.contains { engine.store.wasDiscarded($0.location) })
        for record in records[forgedIndex...] {
            #expect(!engine.store.wasDiscarded(record.location), "\(record.location)")
        }
        for record in records where record.live {
            #expect(try engine.store.readPayload(record.location) == record.payload)
        }
    }

    @Test func aForgedLengthLandingOnALaterHeaderCannotHideLiveRecords() async throws {
        let dir = TemporaryDirectory()
        let engine = try await Self.sealedSegmentsWithDeadRecords(dir)
        defer { engine.shutdown() }
        let records = try Self.written(engine, segment: 1)
        // A dead record claims to span the live record after it, ending exactly where the
        // next header begins: the walk continues consistently and the forged record's hash is
        // in no index entry, so only the live-bytes check can tell.
        let forgedIndex = try #require(
            records.indices.first { i in i + 1 < records.count && !records[i].live && records[i + 1].live })
        let forged = records[forgedIndex].location
        let live = records[forgedIndex + 1].location
        let landing = live.payloadOffset + UInt64(live.length)
        let length = UInt32(landing - forged.payloadOffset)
        Self.overwrite(engine, segment: 1, at: forged.offset + 8, with: withUnsafeBytes(of: length.littleEndian) { Array($0) })

        guard try await engine.punchDeadRecords(progress: { _ in }) != nil else { return }
        for record in records {
            #expect(!engine.store.wasDiscarded(record.location), "\(record.location)")
        }
        for record in records where record.live {
            #expect(try engine.store.readPayload(record.location) == record.payload)
        }
    }

    @Test func anUnchangedSegmentIsNotWalkedAgain() async throws {
        let dir = TemporaryDirectory()
        let engine = try await Self.sealedSegmentsWithDeadRecords(dir)
        defer { engine.shutdown() }
        guard let punched = try await engine.punchDeadRecords(progress: { _ in }), punched > 0 else { return }
        // Small dead records keep segment 1 above the punching mark.
        let allocated = UInt64(engine.store.allocatedBytes(of: 1))
        #expect(allocated > (try engine.liveBytes(of: 1)) + max(64 << 10, allocated / 8))
        // The store keeps its own descriptor; a walk (which opens the path) would now fail.
        let path = engine.store.path(of: 1)
        #expect(rename(path, path + ".away") == 0)
        #expect(try await engine.punchDeadRecords(progress: { _ in }) == 0)
        // Once something in it dies, it is walked again.
        try await engine.deleteObject(bucket: "cams", key: "big0")
        await #expect(throws: (any Error).self) { try await engine.punchDeadRecords(progress: { _ in }) }
        #expect(rename(path + ".away", path) == 0)
        #expect(try await engine.punchDeadRecords(progress: { _ in })! > 0)
    }

    @Test func discardingChecksTheHeaderAtTheLocation() async throws {
        let dir = TemporaryDirectory()
        let engine = try await Self.sealedSegmentsWithDeadRecords(dir)
        defer { engine.shutdown() }
        let records = try Self.written(engine, segment: 1)
        let dead = try #require(records.first(where: Self.punchable))
        let wrongLength = RecordLocation(segment: 1, offset: dead.location.offset, length: dead.location.length + 4096)
        let notAHeader = RecordLocation(segment: 1, offset: dead.location.offset + 4096, length: dead.location.length)
        #expect(try engine.store.discardPayload(wrongLength) == 0)
        #expect(try engine.store.discardPayload(notAHeader) == 0)
        #expect(!engine.store.wasDiscarded(dead.location))
        for record in records {
            #expect(try engine.store.readPayload(record.location) == record.payload)
        }
    }
}
