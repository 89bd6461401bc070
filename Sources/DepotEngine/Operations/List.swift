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
    /// prefix is skipped in one seek, however many keys it holds. `withManifests` decodes them
    /// too, for the few callers that need the chunks (usage per bucket).
    public func listObjects(
        bucket: String, prefix: String = "", delimiter: String = "", startAfter: String = "", maxKeys: Int = 1000,
        withManifests: Bool = false
    ) throws -> ObjectListing {
        let table = objects
        let bucketPrefix = Tables.objectKey(bucket: bucket, key: "")
        let keyPrefix = bucketPrefix + Array(prefix.utf8)
        var listing = ObjectListing()
        // S3 answers max-keys=0 with an empty, untruncated page.
        guard maxKeys > 0 else { return listing }
        let delimiterBytes = Array(delimiter.utf8)
        let startAfterBytes = Array(startAfter.utf8)
        try environment.read { txn in
            var from = keyPrefix
            if !startAfter.isEmpty {
                let after = bucketPrefix + Array(startAfter.utf8) + [0]
                if after.lexicographicallyPrecedes(from) == false { from = after }
            }
            // Each pass scans until it meets a common prefix; the next pass seeks past it.
            var seekTo: [UInt8]? = from
            while let start = seekTo {
                seekTo = nil
                try txn.scan(table, from: start) { keyBytes, value in
                    guard keyBytes.starts(with: keyPrefix) else { return false }
                    let key = UnsafeRawBufferPointer(rebasing: keyBytes[bucketPrefix.count...])
                    if !delimiterBytes.isEmpty,
                        let cut = Self.find(delimiterBytes, in: key, from: keyPrefix.count - bucketPrefix.count)
                    {
                        let common = Array(key[0..<cut + delimiterBytes.count])
                        // A prefix at or before the marker was returned on an earlier page.
                        if !startAfterBytes.lexicographicallyPrecedes(common) {
                            seekTo = bucketPrefix + common + [0xFF]
                            return false
                        }
                        if listing.objects.count + listing.commonPrefixes.count >= maxKeys {
                            listing.isTruncated = true
                            return false
                        }
                        let commonString = String(decoding: common, as: UTF8.self)
                        listing.commonPrefixes.append(commonString)
                        listing.lastReturned = commonString
                        // 0xFF never occurs in UTF-8, so this sorts after every key with that prefix.
                        seekTo = bucketPrefix + common + [0xFF]
                        return false
                    }
                    if listing.objects.count + listing.commonPrefixes.count >= maxKeys {
                        listing.isTruncated = true
                        return false
                    }
                    let keyString = String(decoding: key, as: UTF8.self)
                    listing.objects.append((keyString, try ObjectRecord.decodeValue(value, withManifest: withManifests)))
                    listing.lastReturned = keyString
                    return true
                }
            }
        }
        return listing
    }

    private static func find(_ needle: [UInt8], in haystack: UnsafeRawBufferPointer, from: Int) -> Int? {
        guard needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] {
                var match = true
                for j in 1..<needle.count where haystack[i + j] != needle[j] {
                    match = false
                    break
                }
                if match { return i }
            }
            i += 1
        }
        return nil
    }

    /// True when the bucket holds no object.
    public func isBucketEmpty(_ bucket: String) throws -> Bool {
        try listObjects(bucket: bucket, maxKeys: 1).objects.isEmpty
    }
}
