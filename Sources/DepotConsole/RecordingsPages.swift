import DepotConfig
import DepotEngine
import DepotHashing
import DepotObjectBody
import DepotS3
import Foundation
import HTTPTypes
import HummingbirdCore
import NIOCore

/// The recordings pages: buckets, one bucket's recordings (by prefix, camera and day, paged through
/// the engine's listing), one recording (play, download, delete).
extension ConsoleService {
    /// Rows on one page of recordings.
    static let pageRows = 50
    /// The most keys one page request walks through looking for rows that match the filters; the
    /// next page continues after the last key walked, so a bucket of millions is never loaded.
    static let scanLimit = 2000

    // MARK: Buckets

    /// The prefixes `account` may list in `bucket` (the first one is where browsing starts): its
    /// allow list's, then the whole bucket and the prefixes the bucket's policy names, since a
    /// policy (or ACL) may let it list where its own grants do not. Each is kept only if the
    /// access rule admits listing there, so a bucket it cannot reach has none.
    func listablePrefixes(_ viewer: Viewer, bucket: String) -> [String] {
        let granted = viewer.account.grants.filter { $0.actions.contains(.list) && ($0.bucket == "*" || $0.bucket == bucket) }
        var candidates: [String] = []
        for prefix in granted.map(\.prefix) + s3.consoleListPrefixProposals(bucket: bucket)
        where !candidates.contains(prefix) {
            candidates.append(prefix)
        }
        let allowed = candidates.filter { allows(viewer, .list(prefix: $0), bucket: bucket) }
        return allowed.contains("") ? [""] : allowed
    }

    func allows(_ viewer: Viewer, _ operation: ConsoleOperation, bucket: String) -> Bool {
        s3.consoleAllows(
            viewer.account, operation, bucket: bucket, clientAddress: RequestContext.clientAddress, secureTransport: secure)
    }

    func bucketsPage(_ viewer: Viewer) -> Response {
        let all = (try? engine.listBuckets(limit: 10_000)) ?? []
        var rows: [[String: Any]] = []
        for (name, record) in all {
            guard let prefix = listablePrefixes(viewer, bucket: name).first else { continue }
            var row: [String: Any] = [
                "name": name, "link": listLink(bucket: name, prefix: prefix),
                "created": Self.time(milliseconds: record.created), "versioning": "\(record.versioning)",
            ]
            // Mustache shows a section for an empty string too: only a real prefix is passed.
            if !prefix.isEmpty { row["prefix"] = prefix }
            rows.append(row)
        }
        return page("buckets", ["title": "Recordings", "buckets": rows, "hasBuckets": !rows.isEmpty], viewer: viewer)
    }

    // MARK: One bucket's recordings

    func listPage(_ query: [String: String], viewer: Viewer) -> Response {
        let bucket = query["bucket"] ?? ""
        guard (try? engine.bucket(bucket)) != nil else {
            return problem(.notFound, "No such bucket", "There is no bucket \(bucket).", viewer)
        }
        let allowed = listablePrefixes(viewer, bucket: bucket)
        guard let first = allowed.first else {
            return problem(.forbidden, "Access denied", "This account may not list bucket \(bucket).", viewer)
        }
        // Browsing starts at the account's own prefix; a prefix outside it is refused, not widened.
        let prefix = query["prefix"].flatMap { $0.isEmpty ? nil : $0 } ?? first
        guard allows(viewer, .list(prefix: prefix), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not list \(bucket) under \(prefix).", viewer)
        }
        let camera = query["camera"] ?? ""
        let day = query["day"] ?? ""
        let (from, to) = (query["from"] ?? "", query["to"] ?? "")
        let window: Range<Int64>?
        switch Self.timeWindow(day: day, from: from, to: to) {
        case .success(let range): window = range
        case .failure(let refusal): return problem(.badRequest, refusal.heading, refusal.message, viewer)
        }
        let filtered = !camera.isEmpty || window != nil
        var after = ""
        if let token = query["after"], !token.isEmpty {
            guard let bytes = Hex.decode(token), let key = String(validating: bytes, as: UTF8.self) else {
                return problem(.badRequest, "Bad page token", "The page token (after) is not one the console wrote.", viewer)
            }
            after = key
        }
        var rows: [[String: Any]] = []
        var folders: [[String: Any]] = []
        var cameras = Set<String>()
        var scanned = 0
        var resumeAfter: String?
        walk: while true {
            let listing: ObjectListing
            do {
                listing = try engine.listObjects(
                    bucket: bucket, prefix: prefix, delimiter: filtered ? "" : "/", startAfter: after,
                    maxKeys: min(Self.pageRows + 1, Self.scanLimit - scanned))
            } catch {
                return problem(.internalServerError, "Listing failed", "The index did not answer: \(error)", viewer)
            }
            // Folders and keys in the engine's (UTF-8) order, so that a page ends at one point of the listing.
            var entries: [(name: String, record: ObjectRecord?)] =
                listing.commonPrefixes.map { ($0, nil) } + listing.objects.map { ($0.key, $0.record) }
            entries.sort { $0.name.utf8.lexicographicallyPrecedes($1.name.utf8) }
            var taken = 0
            while taken < entries.count, rows.count + folders.count < Self.pageRows, scanned < Self.scanLimit {
                let entry = entries[taken]
                taken += 1
                after = entry.name
                guard let record = entry.record else {
                    folders.append(["name": entry.name, "link": listLink(bucket: bucket, prefix: entry.name)])
                    continue
                }
                scanned += 1
                let recordCamera = Self.camera(of: entry.name, record: record, under: prefix)
                if !recordCamera.isEmpty { cameras.insert(recordCamera) }
                if !camera.isEmpty && recordCamera != camera { continue }
                if let window, !window.contains(Self.recordedAt(record)) { continue }
                rows.append(row(bucket: bucket, key: entry.name, record: record, camera: recordCamera))
            }
            let more = taken < entries.count || listing.isTruncated
            if rows.count + folders.count >= Self.pageRows || scanned >= Self.scanLimit {
                if more { resumeAfter = after }
                break walk
            }
            guard listing.isTruncated else { break walk }
        }
        var crumbs: [[String: Any]] = [["name": bucket, "link": listLink(bucket: bucket, prefix: first)]]
        var walked = ""
        for part in prefix.dropFirst(first.count).split(separator: "/", omittingEmptySubsequences: false).dropLast() {
            walked += part + "/"
            crumbs.append(["name": String(part), "link": listLink(bucket: bucket, prefix: first + walked)])
        }
        var values: [String: Any] = [
            "title": bucket, "bucket": bucket, "prefix": prefix, "camera": camera, "day": day, "from": from, "to": to,
            "rows": rows,
            "hasRows": !rows.isEmpty, "folders": folders, "hasFolders": !folders.isEmpty, "crumbs": crumbs,
            "cameras": cameras.sorted(), "filtered": filtered,
        ]
        if filtered { values["scanned"] = "\(scanned) recordings looked through" }
        if !camera.isEmpty, !day.isEmpty {
            values["timeline"] =
                "/console/timeline?" + HTTPForm.query([("bucket", bucket), ("prefix", prefix), ("camera", camera), ("day", day)])
        }
        if let resumeAfter {
            values["next"] =
                "/console/list?"
                + HTTPForm.query([
                    ("bucket", bucket), ("prefix", prefix), ("camera", camera), ("day", day), ("from", from),
                    ("to", to), ("after", Hex.encode(Array(resumeAfter.utf8))),
                ])
        }
        return page("list", values, viewer: viewer)
    }

    private func row(bucket: String, key: String, record: ObjectRecord, camera: String) -> [String: Any] {
        [
            "key": key, "link": objectLink(bucket: bucket, key: key), "camera": camera,
            "time": Self.time(milliseconds: Self.recordedAt(record)), "size": Self.size(record.size),
            "duration": Self.durationMilliseconds(record).map(Self.seconds) ?? "—",
            "fps": Self.metadata("fps", of: record) ?? "—",
            "replicas": Self.replicas(record),
            "lock": Self.lock(record.lock),
        ]
    }

    // MARK: One recording

    func objectPage(
        _ query: [String: String], viewer: Viewer, host: String, lockError: LockFieldError? = nil,
        status: HTTPResponse.Status = .ok
    ) -> Response {
        let bucket = query["bucket"] ?? ""
        let key = query["key"] ?? ""
        // The same answer for a key that exists and one that does not: a refused account learns nothing.
        guard allows(viewer, .read(key: key), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not read \(key) in \(bucket).", viewer)
        }
        guard let record = (try? engine.headObject(bucket: bucket, key: key)) ?? nil else {
            return problem(.notFound, "No such recording", "There is no \(key) in \(bucket).", viewer)
        }
        let filename = String(key.split(separator: "/").last ?? Substring(key))
        let playable =
            record.contentType.hasPrefix("video/")
            || [".mp4", ".webm", ".m4v", ".mov"].contains { key.lowercased().hasSuffix($0) }
        var values: [String: Any] = [
            "title": filename, "bucket": bucket, "key": key, "bucketLink": listLink(bucket: bucket, prefix: ""),
            "time": Self.time(milliseconds: Self.recordedAt(record)), "size": Self.size(record.size),
            "contentType": record.contentType, "etag": record.etag, "lock": Self.lock(record.lock),
            "replicas": Self.replicas(record),
            "metadata": record.userMetadata.map { ["name": $0.0, "value": $0.1] },
            "mayDelete": allows(viewer, .delete(key: key), bucket: bucket), "playable": playable,
        ]
        values.merge(lockControls(bucket: bucket, key: key, record: record, viewer: viewer, error: lockError)) { $1 }
        if mayViewServer(viewer) {
            // Tiers holding no copy yet, or whose copy failed: "Replicate now" offers them (a retry for a failed one).
            let offered = tierNames().filter { tier in
                guard let replica = record.replicas.first(where: { $0.tier == tier }) else { return true }
                return replica.state == .failed
            }
            values["replicateTiers"] = offered
            values["mayReplicate"] = !offered.isEmpty
        }
        do {
            if playable {
                values["playURL"] = try PresignedLinks.url(
                    method: "GET", bucket: bucket, key: key, account: viewer.account, host: host, region: region)
            }
            let disposition = "attachment; filename=\"\(filename.filter { $0 != "\"" && $0 != "\\" && !$0.isNewline })\""
            values["downloadURL"] = try PresignedLinks.url(
                method: "GET", bucket: bucket, key: key, account: viewer.account, host: host, region: region,
                parameters: [("response-content-disposition", disposition)])
        } catch {
            return problem(.internalServerError, "Cannot link", "No link could be signed for this recording: \(error)", viewer)
        }
        return page("object", values, viewer: viewer, status: status)
    }

    /// A delete through the S3 door itself (a presigned DELETE made and answered inside the server),
    /// so versioning, Object Lock, events and the access rule apply exactly as to any S3 client.
    func deleteObject(_ form: [String: String], viewer: Viewer, request: Request) async -> Response {
        let bucket = form["bucket"] ?? ""
        let key = form["key"] ?? ""
        guard allows(viewer, .delete(key: key), bucket: bucket) else {
            return problem(.forbidden, "Access denied", "This account may not delete \(key) in \(bucket).", viewer)
        }
        let host = host(of: request)
        let answer: Response
        do {
            let url = try PresignedLinks.url(
                method: "DELETE", bucket: bucket, key: key, account: viewer.account, host: host, region: region)
            answer = await s3.respond(
                to: Request(
                    head: HTTPRequest(method: .delete, scheme: nil, authority: host, path: url, headerFields: [:]),
                    body: RequestBody(buffer: ByteBuffer())))
        } catch {
            return problem(.internalServerError, "Cannot delete", "The delete could not be signed: \(error)", viewer)
        }
        guard answer.status.code < 300 else {
            return problem(
                answer.status, "Not deleted", "The S3 door refused the delete of \(key) (HTTP \(answer.status.code)).", viewer)
        }
        RequestOutcome.current?.record {
            $0.bucket = bucket
            $0.key = key
        }
        let parent = key.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        return Self.redirect(listLink(bucket: bucket, prefix: parent.isEmpty ? "" : parent + "/"))
    }

    /// On-demand replication, and the retry of a failed copy: the engine queues a copy of the
    /// current version to the tier (as the admin API's `POST /admin/v1/replication` does). Tiers are
    /// server-wide, so only an account with `admin` may.
    func replicateObject(_ form: [String: String], viewer: Viewer) async -> Response {
        let bucket = form["bucket"] ?? ""
        let key = form["key"] ?? ""
        let tier = form["tier"] ?? ""
        guard mayViewServer(viewer) else {
            return problem(.forbidden, "Access denied", "Replicating to a tier needs the admin action.", viewer)
        }
        guard tierNames().contains(tier) else {
            return problem(.badRequest, "No such tier", "tier: there is no tier named \(tier).", viewer)
        }
        do {
            guard try await engine.requestReplication(bucket: bucket, key: key, tiers: [tier]) else {
                return problem(.notFound, "No such recording", "There is no \(key) in \(bucket).", viewer)
            }
        } catch {
            return problem(.internalServerError, "Not queued", "The copy to \(tier) could not be queued: \(error)", viewer)
        }
        RequestOutcome.current?.record {
            $0.bucket = bucket
            $0.key = key
        }
        return Self.redirect(objectLink(bucket: bucket, key: key))
    }

    // MARK: Links and formatting

    func listLink(bucket: String, prefix: String) -> String {
        "/console/list?" + HTTPForm.query([("bucket", bucket), ("prefix", prefix)])
    }

    func objectLink(bucket: String, key: String) -> String {
        "/console/object?" + HTTPForm.query([("bucket", bucket), ("key", key)])
    }

    /// The camera of a recording: Vault's `event-instancename` metadata, else the key's first
    /// folder below the listed prefix.
    static func camera(of key: String, record: ObjectRecord, under prefix: String) -> String {
        if let name = record.userMetadata.first(where: { $0.0 == "event-instancename" })?.1, !name.isEmpty { return name }
        let rest = key.dropFirst(key.hasPrefix(prefix) ? prefix.count : 0)
        guard let slash = rest.firstIndex(of: "/") else { return "" }
        return String(rest[..<slash])
    }

    /// When the recording was made (ms): Vault's `event-timestamp` (seconds), else when it was stored.
    static func recordedAt(_ record: ObjectRecord) -> Int64 {
        if let seconds = record.userMetadata.first(where: { $0.0 == "event-timestamp" }).flatMap({ Int64($0.1) }) {
            return seconds * 1000
        }
        return record.created
    }

    /// A Kerberos Agent's user metadata value (`duration`, `fps`), when it sent a non-empty one.
    static func metadata(_ name: String, of record: ObjectRecord) -> String? {
        record.userMetadata.first(where: { $0.0 == name }).map(\.1).flatMap { $0.isEmpty ? nil : $0 }
    }

    /// The recording's length from the agent's `duration` metadata (milliseconds).
    static func durationMilliseconds(_ record: ObjectRecord) -> Int64? {
        metadata("duration", of: record).flatMap { Int64($0) }.flatMap { $0 >= 0 ? $0 : nil }
    }

    static func seconds(_ milliseconds: Int64) -> String { String(format: "%.1f s", Double(milliseconds) / 1000) }

    struct FilterRefusal: Error {
        let heading: String
        let message: String
    }

    /// The time filters as one window: a day (`YYYY-MM-DD`), and/or `from`/`to` (`YYYY-MM-DDTHH:MM`,
    /// UTC, as a datetime-local field sends it; `to` excluded); nil when none is given.
    static func timeWindow(day: String, from: String, to: String) -> Result<Range<Int64>?, FilterRefusal> {
        var lower = Int64.min
        var upper = Int64.max
        if !day.isEmpty {
            guard let range = dayRange(day) else {
                return .failure(FilterRefusal(heading: "Bad day", message: "The day must be written YYYY-MM-DD, not \(day)."))
            }
            (lower, upper) = (range.lowerBound, range.upperBound)
        }
        for (name, text) in [("from", from), ("to", to)] where !text.isEmpty {
            guard let ms = minuteTime(text) else {
                return .failure(
                    FilterRefusal(
                        heading: "Bad \(name)", message: "\(name) must be written YYYY-MM-DDTHH:MM (UTC), not \(text)."))
            }
            if name == "from" { lower = max(lower, ms) } else { upper = min(upper, ms) }
        }
        if lower == .min && upper == .max { return .success(nil) }
        guard lower < upper else {
            return .failure(FilterRefusal(heading: "Bad time range", message: "from must come before to (and within the day)."))
        }
        return .success(lower..<upper)
    }

    /// `2026-12-05T14:30` (seconds optional) as milliseconds, UTC.
    static func minuteTime(_ text: String) -> Int64? {
        let parts = text.split(separator: "T", omittingEmptySubsequences: false)
        guard parts.count == 2, let day = dayRange(String(parts[0])) else { return nil }
        let clock = parts[1].split(separator: ":", omittingEmptySubsequences: false)
        guard (2...3).contains(clock.count), clock.allSatisfy({ $0.count == 2 }),
            let hour = Int(clock[0]), let minute = Int(clock[1]), (0..<24).contains(hour), (0..<60).contains(minute)
        else { return nil }
        let second = clock.count == 3 ? Int(clock[2]) : 0
        guard let second, (0..<60).contains(second) else { return nil }
        return day.lowerBound + Int64(hour * 3600 + minute * 60 + second) * 1000
    }

    /// `2026-12-05` as the milliseconds of that UTC day.
    static func dayRange(_ day: String) -> Range<Int64>? {
        let parts = day.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 3, parts[0].count == 4, parts[1].count == 2, parts[2].count == 2,
            let year = Int(parts[0]), let month = Int(parts[1]), let date = Int(parts[2]),
            (1...12).contains(month), (1...31).contains(date)
        else { return nil }
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        guard let start = calendar.date(from: DateComponents(year: year, month: month, day: date)) else { return nil }
        let ms = Int64(start.timeIntervalSince1970 * 1000)
        return ms..<(ms + 86_400_000)
    }

    static func time(milliseconds: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        return formatter.string(from: Date(timeIntervalSince1970: Double(milliseconds) / 1000))
    }

    /// Each tier's copy: its state, and the last error when there is one.
    static func replicas(_ record: ObjectRecord) -> [[String: Any]] {
        record.replicas.map { replica in
            // A FAILED copy is retried no more on its own: the page offers a Retry (admins only).
            var row: [String: Any] = ["tier": replica.tier, "state": replica.state.s3Name, "retryable": replica.state == .failed]
            if !replica.lastError.isEmpty { row["error"] = replica.lastError }
            return row
        }
    }

    static func size(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[unit])
    }

    static func lock(_ lock: ObjectLockFields) -> String {
        var parts: [String] = []
        if lock.mode != 0 {
            parts.append((lock.mode == 2 ? "COMPLIANCE" : "GOVERNANCE") + " until " + time(milliseconds: lock.retainUntil))
        }
        if lock.legalHold { parts.append("legal hold") }
        return parts.isEmpty ? "—" : parts.joined(separator: ", ")
    }
}
