import DepotEngine
import Foundation
import HummingbirdCore

/// One camera's day as a timeline: 24 hour bands, each recording a block placed at its time
/// (Vault's `event-timestamp`, else when it was stored) and as long as its `duration` metadata,
/// linking to the recording. Drawn server-side as SVG: the template writes the `<rect>`s from
/// numbers computed here, escaping every value, and no script is needed.
enum RecordingsTimeline {
    /// The drawing box: a label column, then one hour across.
    static let labelWidth = 48
    static let hourWidth = 900
    static let bandHeight = 22
    /// A block is at least this wide, so a short clip can still be seen and clicked.
    static let minimumBlockWidth = 3.0
    /// The most keys one timeline walks through (the listing is read in order, never loaded whole).
    static let scanLimit = 10_000

    static let template = """
        {{> head}}
        <nav class="crumbs" aria-label="Breadcrumb">
          <a href="/console/buckets">Buckets</a> / <a href="{{listLink}}">{{bucket}}</a> /
        </nav>
        <h1>{{camera}} on {{day}}</h1>
        <p><span id="timeline-count">{{count}}</span> recordings (UTC).{{#truncated}} <span class="muted">Only the first {{scanned}} keys were looked through.</span>{{/truncated}}
          <a href="{{listLink}}">Show as a list</a></p>
        <svg id="timeline" role="img" aria-label="Recordings of {{camera}} on {{day}} by hour" width="100%" viewBox="0 0 {{width}} {{height}}">
          {{#hours}}<text x="4" y="{{textY}}" font-size="12" fill="#555">{{label}}</text><rect class="band" x="{{x}}" y="{{y}}" width="{{bandWidth}}" height="{{bandHeight}}" fill="{{fill}}"></rect>{{/hours}}
          {{#blocks}}<a href="{{link}}"><rect class="block" x="{{x}}" y="{{y}}" width="{{width}}" height="{{height}}" fill="#2a6fb0" data-key="{{key}}" data-hour="{{hour}}" data-minute="{{minute}}"><title>{{label}}</title></rect></a>{{/blocks}}
        </svg>
        {{> foot}}
        """
}

extension ConsoleService {
    func timelinePage(_ query: [String: String], viewer: Viewer) -> Response {
        let bucket = query["bucket"] ?? ""
        let camera = query["camera"] ?? ""
        let day = query["day"] ?? ""
        guard let range = Self.dayRange(day) else {
            return problem(.badRequest, "Bad day", "The day must be written YYYY-MM-DD, not \(day).", viewer)
        }
        guard (try? engine.bucket(bucket)) != nil else {
            return problem(.notFound, "No such bucket", "There is no bucket \(bucket).", viewer)
        }
        guard let first = listablePrefixes(viewer, bucket: bucket).first else {
            return problem(.forbidden, "Access denied", "This account may not list bucket \(bucket).", viewer)
        }
        let prefix = query["prefix"].flatMap { $0.isEmpty ? nil : $0 } ?? first
        guard allows(viewer, .list(prefix: prefix), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not list \(bucket) under \(prefix).", viewer)
        }
        var blocks: [[String: Any]] = []
        var scanned = 0
        var after = ""
        var truncated = false
        walk: while scanned < RecordingsTimeline.scanLimit {
            let listing: ObjectListing
            do {
                listing = try engine.listObjects(
                    bucket: bucket, prefix: prefix, delimiter: "", startAfter: after,
                    maxKeys: min(1000, RecordingsTimeline.scanLimit - scanned))
            } catch {
                return problem(.internalServerError, "Listing failed", "The index did not answer: \(error)", viewer)
            }
            for object in listing.objects {
                scanned += 1
                after = object.key
                let record = object.record
                guard camera.isEmpty || Self.camera(of: object.key, record: record, under: prefix) == camera else { continue }
                let at = Self.recordedAt(record)
                guard range.contains(at) else { continue }
                blocks.append(block(bucket: bucket, key: object.key, record: record, offset: at - range.lowerBound))
            }
            guard listing.isTruncated else { break walk }
            truncated = scanned >= RecordingsTimeline.scanLimit
        }
        let hours: [[String: Any]] = (0..<24).map { hour in
            let y = hour * RecordingsTimeline.bandHeight
            return [
                "label": String(format: "%02d:00", hour), "textY": "\(y + 15)", "x": "\(RecordingsTimeline.labelWidth)",
                "y": "\(y)", "bandWidth": "\(RecordingsTimeline.hourWidth)",
                "bandHeight": "\(RecordingsTimeline.bandHeight - 2)", "fill": hour % 2 == 0 ? "#eef1f5" : "#e3e8ef",
            ]
        }
        return page(
            "timeline",
            [
                "title": "\(camera) on \(day)", "bucket": bucket, "camera": camera, "day": day, "hours": hours,
                "blocks": blocks, "count": "\(blocks.count)", "truncated": truncated, "scanned": "\(scanned)",
                "width": "\(RecordingsTimeline.labelWidth + RecordingsTimeline.hourWidth)",
                "height": "\(24 * RecordingsTimeline.bandHeight)",
                "listLink": "/console/list?"
                    + HTTPForm.query([("bucket", bucket), ("prefix", prefix), ("camera", camera), ("day", day)]),
            ], viewer: viewer)
    }

    /// One recording's block: its hour band, its start within the hour, its length (clipped at the hour's end).
    private func block(bucket: String, key: String, record: ObjectRecord, offset: Int64) -> [String: Any] {
        let hour = Int(offset / 3_600_000)
        let withinHour = Double(offset % 3_600_000) / 3_600_000
        let length = Double(Self.durationMilliseconds(record) ?? 0) / 3_600_000
        let scale = Double(RecordingsTimeline.hourWidth)
        let width = max(RecordingsTimeline.minimumBlockWidth, min(length, 1 - withinHour) * scale)
        return [
            "key": key, "link": objectLink(bucket: bucket, key: key), "hour": "\(hour)",
            "minute": "\(Int(offset % 3_600_000 / 60_000))",
            "x": String(format: "%.1f", Double(RecordingsTimeline.labelWidth) + withinHour * scale),
            "y": "\(hour * RecordingsTimeline.bandHeight + 2)", "width": String(format: "%.1f", width),
            "height": "\(RecordingsTimeline.bandHeight - 6)",
            "label": "\(Self.time(milliseconds: Self.recordedAt(record))) \(key)",
        ]
    }
}
