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
    /// Lists the versions of a versioned bucket's keys under `prefix` in S3 order (UTF-8 bytes of
    /// the keys, each key's newest version first), after (`keyMarker`, `versionIdMarker`) as S3
    /// defines them, rolling keys with `delimiter` after the prefix into common prefixes. A cursor
    /// walk of the versions table that decodes no manifest (VersionListingWalk).
    /// An unversioned bucket has no versions table entries: callers list its objects as `null`.
    public func listVersions(
        bucket: String, prefix: String = "", delimiter: String = "", keyMarker: String = "",
        versionIdMarker: VersionSelector? = nil, maxKeys: Int = 1000
    ) throws -> VersionListing {
        let table = versionTable
        guard maxKeys > 0 else { return VersionListing() }
        return try indexStore.read { txn in
            // The marker's place: after every version of the key, or after the version named.
            var markerOrder: UInt64?
            if !keyMarker.isEmpty, let selector = versionIdMarker {
                markerOrder = try txn.version(table, bucket: bucket, key: keyMarker, selector)?.effectiveOrder
            }
            var walk = VersionListingWalk(
                layout: VersionKeyLayout(bucket: bucket), prefix: Array(prefix.utf8), delimiter: Array(delimiter.utf8),
                markerKey: Array(keyMarker.utf8), markerOrder: markerOrder, maxKeys: maxKeys)
            try walk.run(txn, table)
            return walk.listing
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

/// One ListObjectVersions page's walk over the versions table.
///
/// The table is in S3 order except inside a block of long keys (keys longer than the kept
/// length that share their kept bytes) holding hashed entries (VersionKeyLayout, as for the
/// objects table in ListingWalk): such a block is read whole, without manifests, sorted by key
/// and newest first, and only what follows the marker is listed. Everywhere else the walk is a
/// cursor, seeking past common prefixes in one step.
struct VersionListingWalk {
    let layout: VersionKeyLayout
    let prefix: [UInt8]
    let delimiter: [UInt8]
    let markerKey: [UInt8]
    /// With a version-id-marker: the order of that version (the walk starts after it).
    let markerOrder: UInt64?
    let maxKeys: Int
    private(set) var listing = VersionListing()
    private var count = 0
    /// The key of the entry listed (or passed) before: a key's first entry is its latest.
    private var previousKey: [UInt8]?
    private var lastCommon: [UInt8]?
    private var done = false

    init(
        layout: VersionKeyLayout, prefix: [UInt8], delimiter: [UInt8], markerKey: [UInt8], markerOrder: UInt64?,
        maxKeys: Int
    ) {
        self.layout = layout
        self.prefix = prefix
        self.delimiter = delimiter
        self.markerKey = markerKey
        self.markerOrder = markerOrder
        self.maxKeys = maxKeys
        // A page starting inside the marker's key: its versions there are not the latest.
        if markerOrder != nil { previousKey = markerKey }
    }

    private var keptLength: Int { layout.objects.keptLength }

    mutating func run(_ txn: borrowing Transaction, _ table: Table) throws {
        let indexedPrefix = layout.bucketPrefix + prefix.prefix(keptLength)
        var seekTo: [UInt8]? = indexedPrefix
        if !markerKey.isEmpty {
            let markerText = String(decoding: markerKey, as: UTF8.self)
            let start = markerOrder.map { layout.indexKey(markerText, order: $0) } ?? layout.keyEnd(markerText)
            if ByteOrder.less(indexedPrefix, start) { seekTo = start }
        }
        // Kept bytes of the block the walk is in when that block is in order.
        var orderedBlock: [UInt8]?
        while let from = seekTo, !done {
            seekTo = nil
            var unorderedBlock: [UInt8]?
            var blockEntry: [UInt8]?
            try txn.scan(table, from: from) { indexKey, value in
                guard ByteOrder.starts(indexKey, with: indexedPrefix), indexKey.count > layout.bucketPrefix.count + 9 else {
                    return false
                }
                let part = indexKey[layout.bucketPrefix.count..<(indexKey.count - 9)]
                if part.count > keptLength, orderedBlock?.elementsEqual(part.prefix(keptLength)) != true {
                    let kept = Array(part.prefix(keptLength))
                    if !(delimiter.isEmpty || ListingWalk.find(delimiter, in: kept, from: prefix.count) == nil) {
                        // A delimiter within the kept bytes rolls the whole block up: in order.
                    } else {
                        unorderedBlock = kept
                        blockEntry = Array(indexKey)
                        return false
                    }
                }
                guard let keyText = try ObjectRecord.storedKey(inValue: value) else { return true }
                let order = VersionKeyLayout.order(indexKey: indexKey)
                guard isAfterMarker(Array(keyText.utf8), order) else { return true }
                if let skipTo = try consider(keyText, order: order, value: value) {
                    seekTo = skipTo
                    return false
                }
                return !done
            }
            guard let kept = unorderedBlock, !done else { continue }
            if try layout.objects.hasHashedEntries(after: kept, in: table, txn) {
                seekTo = try listBlock(kept, txn, table)
            } else {
                // In order after all: walked like the rest, from the entry the walk stopped at.
                orderedBlock = kept
                seekTo = blockEntry
            }
        }
        if !listing.isTruncated {
            listing.nextKeyMarker = nil
            listing.nextVersionIdMarker = nil
        }
    }

    /// Whether (key, order) comes after the marker in S3 order.
    private func isAfterMarker(_ key: [UInt8], _ order: UInt64) -> Bool {
        if markerKey.isEmpty { return true }
        if key == markerKey { return markerOrder.map { order < $0 } ?? false }
        return ByteOrder.less(markerKey, key)
    }

    /// Lists one entry (or its common prefix); returns where to seek when a common prefix lets
    /// the walk skip every key under it.
    private mutating func consider(_ keyText: String, order: UInt64, value: UnsafeRawBufferPointer) throws -> [UInt8]? {
        let key = Array(keyText.utf8)
        guard ByteOrder.starts(key, with: prefix) else { return nil }
        if !delimiter.isEmpty, let cut = ListingWalk.find(delimiter, in: key, from: prefix.count) {
            let common = Array(key[0..<cut + delimiter.count])
            if common != lastCommon, ByteOrder.less(markerKey, common) {
                guard take() else { return nil }
                listing.commonPrefixes.append(String(decoding: common, as: UTF8.self))
                listing.nextKeyMarker = listing.commonPrefixes.last
                listing.nextVersionIdMarker = nil
            }
            lastCommon = common
            previousKey = key
            // Past every key under the prefix (0xFF never occurs in UTF-8).
            return common.count < layout.objects.room ? layout.bucketPrefix + common + [ObjectKeyLayout.hashMarker] : nil
        }
        guard take() else { return nil }
        let record = try ObjectRecord.decodeValue(value, withManifest: false)
        listing.versions.append(VersionListing.Entry(key: keyText, record: record, isLatest: previousKey != key))
        listing.nextKeyMarker = keyText
        listing.nextVersionIdMarker = record.versionId
        previousKey = key
        return nil
    }

    /// Counts one more entry of the page; false (and the page truncated) when it is full.
    private mutating func take() -> Bool {
        if count >= maxKeys {
            listing.isTruncated = true
            done = true
            return false
        }
        count += 1
        return true
    }

    /// Lists a block with hashed entries in S3 order and returns where the walk goes on: past
    /// the block (every entry of it is at most 42 bytes longer than its kept bytes, and its
    /// index keys end at 511 bytes).
    private mutating func listBlock(_ kept: [UInt8], _ txn: borrowing Transaction, _ table: Table) throws -> [UInt8]? {
        let blockPrefix = layout.bucketPrefix + kept
        var entries: [(key: [UInt8], order: UInt64, text: String, value: [UInt8])] = []
        try txn.scan(table, from: blockPrefix + [1]) { indexKey, value in
            guard ByteOrder.starts(indexKey, with: blockPrefix) else { return false }
            guard let keyText = try ObjectRecord.storedKey(inValue: value) else { return true }
            let key = Array(keyText.utf8)
            let order = VersionKeyLayout.order(indexKey: indexKey)
            if ByteOrder.starts(key, with: prefix), isAfterMarker(key, order) {
                entries.append((key, order, keyText, Array(value)))
            }
            return true
        }
        entries.sort { a, b in a.key != b.key ? ByteOrder.less(a.key, b.key) : a.order > b.order }
        for entry in entries where !done {
            // A common prefix found here covers the rest of its keys in the block too.
            if let common = lastCommon, ByteOrder.starts(entry.key, with: common) { continue }
            _ = try entry.value.withUnsafeBytes { try consider(entry.text, order: entry.order, value: $0) }
        }
        return done ? nil : blockPrefix + [UInt8](repeating: 0xFF, count: ObjectKeyLayout.indexKeyLimit - blockPrefix.count)
    }
}

extension Engine {
    /// Calls `body` with every version of the bucket that is not the current object (older
    /// versions and delete markers), manifests included, in one read of the index: what the
    /// admin API's bucket usage adds for a versioned bucket.
    public func forEachNoncurrentVersion(bucket: String, _ body: (ObjectRecord) throws -> Void) throws {
        let table = versionTable
        let prefix = VersionKeyLayout(bucket: bucket).bucketPrefix
        try indexStore.read { txn in
            var previousKey: String?
            try txn.scan(table, from: prefix) { indexKey, value in
                guard ByteOrder.starts(indexKey, with: prefix) else { return false }
                let key = try ObjectRecord.storedKey(inValue: value)
                let record = try ObjectRecord.decodeValue(value)
                defer { previousKey = key }
                // A key's first entry, unless a delete marker, is the current object itself.
                if key != previousKey && !record.isDeleteMarker { return true }
                try body(record)
                return true
            }
        }
    }
}
