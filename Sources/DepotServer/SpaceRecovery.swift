import DepotEngine
import Logging
import ServiceLifecycle

/// Compacts at once when space is short instead of waiting for the hourly schedule: after an
/// upload was refused for space, after uploads dropped before their commit left dead bytes, after deletes left a segment's worth of dead bytes (or a
/// tenth of the reserve). Checking is cheap (statvfs and one index read per segment), so it
/// runs every `interval`.
struct SpaceRecovery: Service {
    let engine: Engine
    let segmentSize: Int
    /// Cluster mode: `engine.compact()` compacts the shared store's packs, which one node at a time
    /// does (the `compaction` pass); embedded mode's only node always may.
    let leadership: any MaintenanceLeadership
    let logger: Logger
    var interval: Duration = .seconds(1)

    func run() async throws {
        engine.refillBallast()
        var refusalsSeen = engine.space()?.refusals ?? 0
        var abandonedSeen = engine.space()?.abandonedBytes ?? 0
        var deadAfterLastPass: UInt64 = (try? engine.deadSegmentBytes()) ?? 0
        while await pauseUnlessShuttingDown(interval) {
            engine.refillBallast()
            do {
                let space = engine.space()
                let refused = (space?.refusals ?? 0) != refusalsSeen
                // An upload dropped before its commit left a sealed segment of dead bytes.
                let abandoned = (space?.abandonedBytes ?? 0) >= abandonedSeen + (1 << 20)
                let dead = try engine.deadSegmentBytes()
                let step = max(UInt64(segmentSize), (space?.reserveBytes ?? 0) / 10)
                guard refused || abandoned || dead >= deadAfterLastPass + step else {
                    deadAfterLastPass = min(deadAfterLastPass, dead)
                    continue
                }
                refusalsSeen = space?.refusals ?? refusalsSeen
                abandonedSeen = space?.abandonedBytes ?? abandonedSeen
                guard await leadership.mayRun(.compaction) else { continue }
                let report = try await engine.compact()
                deadAfterLastPass = try engine.deadSegmentBytes()
                for problem in report.problems { logger.error("space recovery: \(problem)") }
                if report.segmentsCompacted > 0 || report.bytesPunched > 0 {
                    logger.info(
                        "space recovery compacted \(report.segmentsCompacted) segments, reclaimed \(report.bytesReclaimed) bytes, punched \(report.bytesPunched) bytes of dead records"
                    )
                }
            } catch {
                logger.warning("space recovery failed: \(error)")
                // A device full to the last byte: the ballast's space lets the next pass commit.
                if Engine.isNoSpace(error) { engine.releaseBallast() }
            }
        }
    }
}
