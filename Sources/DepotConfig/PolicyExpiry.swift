/// When a policy's expiry falls for one object: the one place that decides it, used by retention
/// (DepotTiering's Retention), the admin API's dry run and the S3 `x-amz-expiration` header.
extension PolicySettings {
    static let dayMilliseconds: Int64 = 86_400_000

    /// Whether the policy expires anything (by age or by date).
    public var expires: Bool { expireAfter != nil || expireAt != nil }

    /// When a version created at `created` (milliseconds since the epoch) expires under this
    /// policy: the earlier of its age limit and its date; nil when the policy never expires it.
    public func expiry(created: Int64) -> Int64? {
        var byAge: Int64?
        if let after = expireAfter { byAge = roundedToMidnight(created + Int64(after) * 1000) }
        switch (byAge, expireAt) {
        case (let age?, let date?): return min(age, date)
        case (let age?, nil): return age
        case (nil, let date?): return date
        case (nil, nil): return nil
        }
    }

    /// Whether an upload begun at `created` is old enough to be aborted at `now`.
    public func abortsUpload(created: Int64, now: Int64) -> Bool {
        guard let after = abortUploadsAfter else { return false }
        return roundedToMidnight(created + Int64(after) * 1000) < now
    }

    /// S3 counts lifecycle days to the next midnight UTC after creation plus the days; Depot's
    /// own policies count exact seconds.
    func roundedToMidnight(_ time: Int64) -> Int64 {
        guard expireAtMidnightUTC else { return time }
        let day = Self.dayMilliseconds
        return time % day == 0 ? time : (time / day + 1) * day
    }
}

extension PolicySettings {
    /// A policy with only a name, matching everything and doing nothing yet (for other modules,
    /// which cannot use the memberwise initialiser).
    public static func named(_ name: String) -> PolicySettings { PolicySettings(name: name) }
}
