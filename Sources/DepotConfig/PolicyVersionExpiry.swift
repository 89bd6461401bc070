import DepotEngine

/// A policy's expiry of versions in versioned buckets (S3 lifecycle `NoncurrentVersionExpiration`
/// and `Expiration/ExpiredObjectDeleteMarker`): the one place that decides which versions are
/// due, used by retention (DepotTiering's VersionRetention) and the admin API's dry run.
///
/// A version becomes noncurrent when the next newer version (or delete marker) of its key is
/// created, as S3 counts it; it is due `noncurrentAfter` later (at the next midnight UTC for a
/// lifecycle rule), unless it is among the key's `keepNewerNoncurrent` newest noncurrent versions.
/// A delete marker is due when it is its key's current version and no older version is left.
extension PolicySettings {
    /// Whether the policy expires versions (noncurrent ones or lone delete markers).
    public var expiresVersions: Bool { expireNoncurrentAfter != nil || expireDeleteMarkers }

    /// Why a version is due.
    public enum VersionExpiryReason: String, Sendable {
        case noncurrent
        case expiredDeleteMarker
    }

    /// A version that is due: its key, its record (the version id, lock and size are there).
    public struct DueVersion: Sendable {
        public var key: String
        public var record: ObjectRecord
        public var reason: VersionExpiryReason
    }

    /// When a version that became noncurrent at `noncurrentSince` (ms since the epoch) is due.
    public func noncurrentExpiry(noncurrentSince: Int64) -> Int64? {
        guard let after = expireNoncurrentAfter else { return nil }
        return roundedToMidnight(noncurrentSince + Int64(after) * 1000)
    }

    /// Which versions of one key (newest first, as the versions table lists them) are due at `now`.
    public func dueVersions(bucket: String, key: String, newestFirst versions: [ObjectRecord], now: Int64) -> [DueVersion] {
        guard let latest = versions.first else { return [] }
        if versions.count == 1 {
            guard expireDeleteMarkers, latest.isDeleteMarker, key.hasPrefix(prefix), glob.map({ $0.matches(key) }) ?? true
            else { return [] }
            return [DueVersion(key: key, record: latest, reason: .expiredDeleteMarker)]
        }
        var due: [DueVersion] = []
        for index in 1..<versions.count {
            let version = versions[index]
            // The newest `keepNewerNoncurrent` noncurrent versions stay, whatever their age.
            if let keep = keepNewerNoncurrent, index <= keep { continue }
            guard let time = noncurrentExpiry(noncurrentSince: versions[index - 1].created), time < now else { continue }
            // A delete marker has no size or tags: it matches on the key alone.
            let matched =
                version.isDeleteMarker
                ? key.hasPrefix(prefix) && (glob.map { $0.matches(key) } ?? true)
                : matches(bucket: bucket, key: key, record: version)
            if matched { due.append(DueVersion(key: key, record: version, reason: .noncurrent)) }
        }
        return due
    }

    /// Calls `body` with each due version of the bucket under the policy's prefix, key by key,
    /// in one walk of the versions table (pages of 1000); `body` returns false to stop. An
    /// unversioned bucket has no versions, so nothing is due there.
    public func forEachDueVersion(
        engine: Engine, bucket: String, now: Int64, _ body: (DueVersion) throws -> Bool
    ) throws {
        guard expiresVersions else { return }
        var keyMarker = ""
        var versionMarker: VersionSelector?
        var currentKey: String?
        var group: [ObjectRecord] = []
        func flush() throws -> Bool {
            defer { group = [] }
            guard let key = currentKey else { return true }
            for version in dueVersions(bucket: bucket, key: key, newestFirst: group, now: now) {
                guard try body(version) else { return false }
            }
            return true
        }
        while true {
            let page = try engine.listVersions(
                bucket: bucket, prefix: prefix, keyMarker: keyMarker, versionIdMarker: versionMarker, maxKeys: 1000)
            for entry in page.versions {
                if Task.isCancelled { return }
                if entry.key != currentKey {
                    guard try flush() else { return }
                    currentKey = entry.key
                }
                group.append(entry.record)
            }
            guard page.isTruncated, let nextKey = page.nextKeyMarker else { break }
            keyMarker = nextKey
            versionMarker = page.nextVersionIdMarker.flatMap(VersionSelector.init)
        }
        _ = try flush()
    }
}

extension DepotConfiguration {
    /// `expire.noncurrentAfter`, `expire.keepNewerNoncurrent` and `expire.expiredDeleteMarkers`.
    static func parseVersionExpiry(_ expire: ConfigNode, into policy: inout PolicySettings) throws {
        if expire["noncurrentAfter"].isPresent {
            let after = try expire["noncurrentAfter"].duration(default: 0)
            guard after > 0 else { throw ConfigError(expire.path + ".noncurrentAfter", "must be at least 1s, e.g. 30d") }
            policy.expireNoncurrentAfter = after
        }
        if expire["keepNewerNoncurrent"].isPresent {
            let keep = try expire["keepNewerNoncurrent"].int(default: 0)
            guard (1...100).contains(keep) else {
                throw ConfigError(expire.path + ".keepNewerNoncurrent", "must be from 1 to 100")
            }
            guard policy.expireNoncurrentAfter != nil else {
                throw ConfigError(expire.path + ".keepNewerNoncurrent", "needs expire.noncurrentAfter")
            }
            policy.keepNewerNoncurrent = keep
        }
        policy.expireDeleteMarkers = try expire["expiredDeleteMarkers"].bool(default: false)
    }
}
