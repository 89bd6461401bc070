/// A bucket's S3 Object Lock configuration (PutObjectLockConfiguration): present only on a bucket
/// created with Object Lock (or given it while versioning was Enabled), which can never lose it.
/// Kept in the bucket record, so the `bucketCreate` log record that carries the bucket carries
/// it too and `fsck --rebuild-index` restores it.
public struct BucketObjectLock: Sendable, Equatable {
    /// The default retention applied to new versions that name none: 0 none, else an
    /// ObjectLockMode raw value.
    public var defaultMode: UInt8
    /// The default period: exactly one of days and years is non-zero when a mode is set.
    public var defaultDays: Int32
    public var defaultYears: Int32

    public init(defaultMode: UInt8 = 0, defaultDays: Int32 = 0, defaultYears: Int32 = 0) {
        self.defaultMode = defaultMode
        self.defaultDays = defaultDays
        self.defaultYears = defaultYears
    }

    /// The retain-until date (ms since the epoch) the default gives a version created at `now`;
    /// nil without a default. A year is 365 days, as AWS counts it.
    public func defaultRetainUntil(now: Int64) -> Int64? {
        guard defaultMode != 0 else { return nil }
        let days = Int64(defaultDays) + Int64(defaultYears) * 365
        return now + days * 86_400_000
    }
}

/// S3's retention modes, as stored in ObjectLockFields.mode.
public enum ObjectLockMode: UInt8, Sendable {
    case governance = 1
    case compliance = 2

    public init?(name: String) {
        switch name {
        case "GOVERNANCE": self = .governance
        case "COMPLIANCE": self = .compliance
        default: return nil
        }
    }

    public var name: String { self == .governance ? "GOVERNANCE" : "COMPLIANCE" }
}
