extension Account {
    /// Whether the account may list the keys of `bucket` under `prefix`: a `list` grant on the
    /// bucket whose own prefix is empty or begins the requested one.
    ///
    /// Why not filter a wider listing down to the allowed prefixes instead: MinIO (and AWS) with a
    /// policy on `s3:prefix` refuse a ListObjects whose prefix does not fall inside the allowed
    /// one with AccessDenied, and that is what clients of a camera-per-prefix setup expect; a
    /// silently filtered listing would also page and count wrongly (MaxKeys, IsTruncated,
    /// continuation tokens over keys the account never sees). So `camera-1/` may list
    /// `camera-1/` and `camera-1/2026-12-05/`, but not `camera-` or the whole bucket, where the
    /// names and times of other cameras' recordings would show.
    public func mayList(bucket: String, prefix: String) -> Bool {
        enabled
            && grants.contains { grant in
                grant.actions.contains(.list) && (grant.bucket == "*" || grant.bucket == bucket)
                    && prefix.hasPrefix(grant.prefix)
            }
    }
}
