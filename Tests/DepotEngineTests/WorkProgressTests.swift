import Testing

@testable import DepotEngine
import TestRandomness

/// The progress fsck, an index rebuild and compaction report (WorkProgress.swift), which the
/// `depot` command shows as count, bytes, rate and ETA: it only grows, and a scan ends at its total.
struct WorkProgressTests {
    @Test func fsckRebuildAndCompactionReportProgressUpToTheirTotal() async throws {
        let dir = TemporaryDirectory()
        let configuration = testConfiguration(dir.path, segmentSize: 1 << 20)
        var engine: Engine? = try Engine(configuration: configuration)
        try await engine!.createBucket("cams", owner: "tester")
        var random = SplitMix64(seed: 7)
        for i in 0..<40 { _ = try await engine!.put("cams", "clip\(i)", random.bytes(60_000)) }
        for i in 0..<30 { try await engine!.deleteObject(bucket: "cams", key: "clip\(i)") }

        var seen: [WorkProgress] = []
        _ = try engine!.fsck(advance: { seen.append($0) })
        let scan = seen.filter { $0.phase == "verifying segments" }
        #expect(scan.count > 40)
        #expect(zip(scan, scan.dropFirst()).allSatisfy { $0.bytes <= $1.bytes && $0.count <= $1.count })
        let total = try #require(scan.last?.totalBytes)
        #expect(total > 2_000_000 && scan.last?.bytes == total)

        seen = []
        _ = try await engine!.compact(threshold: 0.5, advance: { seen.append($0) })
        #expect(seen.allSatisfy { $0.unit == "segments" })
        #expect(seen.first { $0.phase == "compacting segments" }?.count == 0)
        let punchScan = seen.filter { $0.phase == "finding dead records" }
        #expect(punchScan.last.map { $0.count > 1 && $0.bytes == $0.totalBytes } == true)
        #expect(seen.last.map { $0.bytes == $0.totalBytes } == true)
        engine!.shutdown()
        engine = nil

        seen = []
        _ = try Engine.rebuildIndex(configuration: configuration, advance: { seen.append($0) })
        let replay = seen.filter { $0.phase == "replaying segments" }
        #expect(!replay.isEmpty && replay.last.map { $0.bytes == $0.totalBytes && $0.totalBytes > 0 } == true)
    }
}
