import DepotStorage

/// One page of ListObjectVersions.
public struct VersionListing: Sendable {
    public struct Entry: Sendable {
        public var key: String
        public var record: ObjectRecord
        public var isLatest: Bool
    }
    public var versions: [Entry] = []
    public var commonPrefixes: [String] = []
    public var isTruncated = false
    /// Where the next page starts: the last key (or common prefix) and version returned.
    public var nextKeyMarker: String?
    public var nextVersionIdMarker: String?
}

extension Engine {
    /// Lists the versions of a versioned bucket's keys under `prefix` in key order, each key's
    /// newest first, after (`keyMarker`, `versionIdMarker`) as S3 defines them, rolling keys with
    /// `delimiter` after the prefix into common prefixes. A cursor walk of the versions table that
    /// decodes no manifest: memory is bounded by `maxKeys`, however many versions there are.
    /// Known limit: keys longer than about 460 bytes that share those first bytes come in the
    /// order of their digests (VersionKeyLayout), not UTF-8 order; paging stays exact.
    /// An unversioned bucket has no versions table entries: callers list its objects as `null`.
    public func listVersions(
        bucket: String, prefix: String = "", delimiter: String = "", keyMarker: String = "",
        versionIdMarker: VersionSelector? = nil, maxKeys: Int = 1000
    ) throws -> VersionListing {
        let table = versionTable
        let layout = VersionKeyLayout(bucket: bucket)
        let prefixBytes = Array(prefix.utf8)
        let delimiterBytes = Array(delimiter.utf8)
        let markerBytes = Array(keyMarker.utf8)
        let indexedPrefix = layout.bucketPrefix + prefixBytes.prefix(layout.objects.keptLength)
        var listing = VersionListing()
        guard maxKeys > 0 else { return listing }
        return try environment.read { txn in
            var seek = indexedPrefix
            // Entries at or before this index key were returned by earlier pages.
            var skipThrough: [UInt8]?
            // The key of the entry before: a key's first entry in the walk is its latest unless
            // the walk starts inside that key.
            var previousKey: [UInt8]?
            if !keyMarker.isEmpty {
                var start = layout.keyEnd(keyMarker)
                if let selector = versionIdMarker,
                    let marked = try txn.version(table, bucket: bucket, key: keyMarker, selector)
                {
                    start = layout.indexKey(keyMarker, order: marked.effectiveOrder)
                    skipThrough = start
                    previousKey = markerBytes
                }
                if ByteOrder.less(seek, start) { seek = start }
            }
            var lastCommon: [UInt8]?
            var seekTo: [UInt8]? = seek
            var count = 0
            while let from = seekTo {
                seekTo = nil
                try txn.scan(table, from: from) { indexKey, value in
                    guard ByteOrder.starts(indexKey, with: indexedPrefix) else { return false }
                    if let skip = skipThrough {
                        if !ByteOrder.less(skip, Array(indexKey)) { return true }
                        skipThrough = nil
                    }
                    guard let keyText = try ObjectRecord.storedKey(inValue: value) else { return true }
                    let key = Array(keyText.utf8)
                    guard ByteOrder.starts(key, with: prefixBytes) else { return true }
                    if !delimiterBytes.isEmpty, let cut = ListingWalk.find(delimiterBytes, in: key, from: prefixBytes.count) {
                        let common = Array(key[0..<cut + delimiterBytes.count])
                        if common != lastCommon, ByteOrder.less(markerBytes, common) {
                            if count >= maxKeys {
                                listing.isTruncated = true
                                return false
                            }
                            listing.commonPrefixes.append(String(decoding: common, as: UTF8.self))
                            listing.nextKeyMarker = listing.commonPrefixes.last
                            listing.nextVersionIdMarker = nil
                            count += 1
                        }
                        lastCommon = common
                        previousKey = key
                        // Past every key under the prefix (0xFF never occurs in UTF-8).
                        if common.count < layout.objects.room {
                            seekTo = layout.bucketPrefix + common + [ObjectKeyLayout.hashMarker]
                            return false
                        }
                        return true
                    }
                    if count >= maxKeys {
                        listing.isTruncated = true
                        return false
                    }
                    let record = try ObjectRecord.decodeValue(value, withManifest: false)
                    listing.versions.append(
                        VersionListing.Entry(key: keyText, record: record, isLatest: previousKey != key))
                    listing.nextKeyMarker = keyText
                    listing.nextVersionIdMarker = record.versionId
                    previousKey = key
                    count += 1
                    return true
                }
            }
            if !listing.isTruncated {
                listing.nextKeyMarker = nil
                listing.nextVersionIdMarker = nil
            }
            return listing
        }
    }

    /// True when a versioned bucket holds no version or delete marker (DeleteBucket).
    func hasNoVersions(_ bucket: String, txn: borrowing Transaction) throws -> Bool {
        let prefix = VersionKeyLayout(bucket: bucket).bucketPrefix
        var empty = true
        try txn.scan(versionTable, from: prefix) { key, _ in
            empty = !ByteOrder.starts(key, with: prefix)
            return false
        }
        return empty
    }
}
