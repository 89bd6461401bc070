import DepotStorage

/// One page of a listing: objects and, with a delimiter, the common prefixes rolled up.
public struct ObjectListing: Sendable {
    public var objects: [(key: String, record: ObjectRecord)] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    /// The last key or prefix returned: where the next page starts after.
    public var lastReturned: String?
}

extension Engine {
    /// Lists keys of `bucket` that start with `prefix`, after `startAfter`, in UTF-8 byte order,
    /// rolling keys that contain `delimiter` after the prefix into common prefixes. It walks the
    /// index with a cursor and decodes no manifest, so memory is bounded by `maxKeys`; a common
    /// prefix is skipped in one seek, however many keys it holds (ListingWalk.swift, which also
    /// puts blocks of long keys back in order). `withManifests` decodes them too, for the few
    /// callers that need the chunks (usage per bucket).
    public func listObjects(
        bucket: String, prefix: String = "", delimiter: String = "", startAfter: String = "", maxKeys: Int = 1000,
        withManifests: Bool = false
    ) throws -> ObjectListing {
        let table = objects
        var walk = ListingWalk(
            layout: ObjectKeyLayout(bucket: bucket), prefix: Array(prefix.utf8), delimiter: Array(delimiter.utf8),
            startAfter: Array(startAfter.utf8), maxKeys: maxKeys, withManifests: withManifests)
        // S3 answers max-keys=0 with an empty, untruncated page.
        try indexStore.read { txn in try walk.run(txn, table) }
        return walk.listing
    }

    /// True when the bucket holds no object.
    public func isBucketEmpty(_ bucket: String) throws -> Bool {
        try listObjects(bucket: bucket, maxKeys: 1).objects.isEmpty
    }
}
