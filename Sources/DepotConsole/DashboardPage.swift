import DepotEngine
import Foundation
import HummingbirdCore

/// The dashboard: what came in over the last hour and day (bar charts drawn here as SVG, no
/// script), what is stored logically and physically (the deduplication ratio), the devices, the
/// space left and how long it lasts at the current rate, and the replication backlog per tier.
/// The figures are server-wide, so only an account with `admin` sees them.
extension ConsoleService {
    func mayViewServer(_ viewer: Viewer) -> Bool { viewer.account.allows(.admin, bucket: "*") }

    func dashboardPage(_ viewer: Viewer) async -> Response {
        guard mayViewServer(viewer) else {
            return problem(
                .forbidden, "Access denied", "The dashboard shows the whole server: it needs the admin action.", viewer)
        }
        let now = Engine.now()
        let lastHour = engine.ingestHistory.samples(minutes: 60, endingAt: now)
        let lastDay = engine.ingestHistory.samples(minutes: IngestHistory.slots, endingAt: now)
        // The day as 24 hourly bars (the oldest hour first), the hour as 60 minute bars.
        let hours = stride(from: 0, to: lastDay.count, by: 60).map { start in
            lastDay[start..<min(start + 60, lastDay.count)].reduce(IngestHistory.Sample()) { sum, sample in
                IngestHistory.Sample(
                    minute: sample.minute, bytes: sum.bytes + sample.bytes, objects: sum.objects + sample.objects)
            }
        }
        let dayBytes = lastDay.reduce(0) { $0 + $1.bytes }
        let charts: [[String: Any]] = [
            Self.chart(id: "ingest-hour", title: "Last hour, per minute", samples: lastHour, unit: "min"),
            Self.chart(id: "ingest-day", title: "Last day, per hour", samples: hours, unit: "h"),
        ]
        var storage: [[String: Any]] = []
        if let stats = try? engine.statistics() {
            let logical = (try? engine.totalUsage())?.bytes ?? 0
            storage += [
                ["id": "logical", "name": "Stored as uploaded (logical)", "value": Self.size(logical)],
                ["id": "physical", "name": "Stored after deduplication", "value": Self.size(stats.liveBytes)],
                ["id": "dedup", "name": "Deduplication ratio", "value": Self.ratio(logical, stats.liveBytes)],
                ["id": "segments", "name": "Segment files", "value": "\(stats.segments) (\(Self.size(stats.segmentBytes)))"],
                ["id": "live-share", "name": "Live share of the segments", "value": Self.percent(stats.liveRatio)],
                ["id": "outbox", "name": "Events waiting in the outbox", "value": "\(stats.outboxEvents)"],
            ]
        }
        if let space = engine.space() {
            storage += [
                [
                    "id": "free", "name": "Device free",
                    "value": "\(Self.size(space.freeBytes)) of \(Self.size(space.totalBytes))",
                ],
                [
                    "id": "available", "name": "Free for uploads (after the reserve)",
                    "value": Self.size(space.availableForUploads),
                ],
                // At the last day's rate; nothing came in, nothing runs out.
                [
                    "id": "days-left", "name": "Recording left at the last day's rate",
                    "value": dayBytes == 0
                        ? "— (nothing stored in the last day)"
                        : Self.days(Double(space.availableForUploads) / Double(dayBytes)),
                ],
                ["id": "refusals", "name": "Upload bytes refused for space", "value": "\(space.refusals)"],
            ]
        }
        if let devices = try? engine.devices(owner: nil) {
            let online = devices.filter { now - $0.lastSeen <= Self.onlineWithinMilliseconds }.count
            storage.append([
                "id": "devices", "name": "Devices online / offline", "value": "\(online) / \(devices.count - online)",
            ])
        }
        let tiers = await tierRows(now: now)
        let sinks = await sinkRows()
        return page(
            "dashboard",
            [
                "title": "Dashboard", "charts": charts, "storage": storage, "backlog": tiers,
                "hasBacklog": !tiers.isEmpty, "sinks": sinks, "hasSinks": !sinks.isEmpty,
            ], viewer: viewer)
    }

    /// Each tier's backlog and health as the admin API's `GET /admin/v1/replication` reports it
    /// (TierHealth: failing, breaker, consecutive failures, last error); without the admin API
    /// (a console made in a unit test), the engine's backlog alone.
    private func tierRows(now: Int64) async -> [[String: Any]] {
        let answer = await adminCall("GET", "/admin/v1/replication")
        guard answer.ok, let tiers = answer.object["tiers"] as? [[String: Any]] else {
            return ((try? engine.taskBacklog()) ?? [:]).sorted { $0.key < $1.key }.map { tier, entry in
                [
                    "tier": tier, "count": "\(entry.count)",
                    "oldest": entry.count == 0 ? "—" : Self.duration(seconds: max(0, now - entry.oldestDue) / 1000),
                    "state": "—", "failures": "—",
                ] as [String: Any]
            }
        }
        return tiers.map { tier in
            let count = (tier["backlog"] as? Int) ?? 0
            let failing = (tier["failing"] as? Bool) ?? false
            var row: [String: Any] = [
                "tier": Self.text(tier["name"] ?? ""), "count": "\(count)",
                "oldest": count == 0 ? "—" : Self.duration(seconds: Int64((tier["oldestPendingAgeSeconds"] as? Int) ?? 0)),
                "state": failing ? "FAILING" : "OK", "breaker": Self.text(tier["breaker"] ?? ""),
                "failures": Self.text(tier["consecutiveFailures"] ?? 0),
            ]
            if let error = tier["lastError"] as? [String: Any], let message = error["message"] as? String {
                row["lastError"] = message
            }
            return row
        }
    }

    /// Each event sink's backlog, deliveries and last error (`GET /admin/v1/events`).
    private func sinkRows() async -> [[String: Any]] {
        let answer = await adminCall("GET", "/admin/v1/events")
        guard answer.ok, let sinks = answer.object["sinks"] as? [[String: Any]] else { return [] }
        return sinks.map { sink in
            var row: [String: Any] = [
                "name": Self.text(sink["name"] ?? ""), "type": Self.text(sink["type"] ?? ""),
                "backlog": Self.text(sink["backlog"] ?? 0), "delivered": Self.text(sink["delivered"] ?? 0),
                "state": (sink["failing"] as? Bool) == true ? "FAILING" : "OK",
            ]
            if let error = sink["lastError"] as? String, !error.isEmpty { row["lastError"] = error }
            return row
        }
    }

    /// Chart geometry: the SVG's drawing box.
    static let chartWidth = 600
    static let chartHeight = 120

    /// One bar chart as values for the template (which draws the `<rect>`s, escaping every value):
    /// bars scaled to the largest sample, each with a tooltip of its bytes and objects.
    static func chart(id: String, title: String, samples: [IngestHistory.Sample], unit: String) -> [String: Any] {
        let largest = max(1, samples.map(\.bytes).max() ?? 1)
        let slot = Double(chartWidth) / Double(max(1, samples.count))
        let bars: [[String: Any]] = samples.enumerated().compactMap { index, sample in
            guard sample.bytes > 0 else { return nil }
            let height = max(1, Int((Double(sample.bytes) / Double(largest) * Double(chartHeight - 4)).rounded()))
            let ago = samples.count - 1 - index
            return [
                "x": String(format: "%.1f", Double(index) * slot), "width": String(format: "%.1f", max(1, slot - 1)),
                "y": "\(chartHeight - height)", "height": "\(height)", "bytes": "\(sample.bytes)",
                "label": "\(ago == 0 ? "now" : "\(ago) \(unit) ago"): \(size(sample.bytes)) in \(sample.objects) objects",
            ]
        }
        let bytes = samples.reduce(0) { $0 + $1.bytes }
        let objects = samples.reduce(0) { $0 + $1.objects }
        return [
            "id": id, "title": title, "bars": bars, "width": "\(chartWidth)", "height": "\(chartHeight)",
            "totalBytes": "\(bytes)", "totalObjects": "\(objects)",
            "summary": "\(size(bytes)) in \(objects) objects",
        ]
    }

    /// Logical bytes per physical byte, as `2.0×`.
    static func ratio(_ logical: UInt64, _ physical: UInt64) -> String {
        guard physical > 0 else { return "—" }
        return String(format: "%.2f×", Double(logical) / Double(physical))
    }

    static func days(_ days: Double) -> String {
        days >= 3650 ? "more than 10 years" : days >= 2 ? "\(Int(days)) days" : "\(Int(days * 24)) hours"
    }

    static func percent(_ ratio: Double) -> String { "\(Int((ratio * 100).rounded()))%" }

    static func duration(seconds: Int64) -> String {
        if seconds < 120 { return "\(seconds) s" }
        if seconds < 7200 { return "\(seconds / 60) min" }
        return "\(seconds / 3600) h"
    }
}
