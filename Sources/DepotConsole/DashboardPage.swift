import DepotEngine
import HummingbirdCore

/// The dashboard's numbers as a simple page: the storage, the device and the replication backlog
/// per tier. They are server-wide, so only an account with `admin` sees them.
extension ConsoleService {
    func mayViewServer(_ viewer: Viewer) -> Bool { viewer.account.allows(.admin, bucket: "*") }

    func dashboardPage(_ viewer: Viewer) -> Response {
        guard mayViewServer(viewer) else {
            return problem(
                .forbidden, "Access denied", "The dashboard shows the whole server: it needs the admin action.", viewer)
        }
        var storage: [[String: Any]] = []
        if let stats = try? engine.statistics() {
            storage += [
                ["name": "Stored after deduplication", "value": Self.size(stats.liveBytes)],
                ["name": "Segment files", "value": "\(stats.segments) (\(Self.size(stats.segmentBytes)))"],
                ["name": "Live share of the segments", "value": Self.percent(stats.liveRatio)],
                ["name": "Events waiting in the outbox", "value": "\(stats.outboxEvents)"],
            ]
        }
        if let space = engine.space() {
            storage += [
                ["name": "Device free", "value": "\(Self.size(space.freeBytes)) of \(Self.size(space.totalBytes))"],
                ["name": "Free for uploads (after the reserve)", "value": Self.size(space.availableForUploads)],
                ["name": "Upload bytes refused for space", "value": "\(space.refusals)"],
            ]
        }
        let now = Engine.now()
        let backlog = ((try? engine.taskBacklog()) ?? [:]).sorted { $0.key < $1.key }.map { tier, entry in
            [
                "tier": tier, "count": "\(entry.count)",
                "oldest": entry.count == 0 ? "—" : Self.duration(seconds: max(0, now - entry.oldestDue) / 1000),
            ] as [String: Any]
        }
        return page(
            "dashboard",
            ["title": "Dashboard", "storage": storage, "backlog": backlog, "hasBacklog": !backlog.isEmpty], viewer: viewer)
    }

    static func percent(_ ratio: Double) -> String { "\(Int((ratio * 100).rounded()))%" }

    static func duration(seconds: Int64) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }
}
