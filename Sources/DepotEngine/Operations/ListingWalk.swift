import DepotStorage
import Glibc

/// One listing's walk over the objects table, in S3 order (UTF-8 byte order of the keys).
///
/// The index is in key order except inside a block of long keys (ObjectKeyLayout): the entries
/// longer than the kept length that share their kept bytes. A block without hashed entries is
/// in order and is walked like the rest. A block with hashed entries is read whole and only the
/// entries this page can still take are kept, in order (`SmallestEntries`), so memory stays
/// bounded by max-keys however large the block; each page reads the block again, which costs
/// time only for the rare buckets with many keys sharing their first ~400 bytes.
/// Every seek key is at most 511 bytes (LMDB's key limit).
struct ListingWalk {
    let layout: ObjectKeyLayout
    let prefix: [UInt8]
    let delimiter: [UInt8]
    let startAfter: [UInt8]
    let maxKeys: Int
    let withManifests: Bool
    /// Every index key of the listing starts with it: the bucket and the kept bytes of the prefix.
    let indexedPrefix: [UInt8]
    private(set) var listing = ObjectListing()
    /// Kept bytes of the block the walk is in when it holds no hashed entry.
    private var orderedBlock: [UInt8]?
    /// Index keys of a common prefix already dealt with: skipped until one does not start with it.
    private var skipping: [UInt8]?

    init(
        layout: ObjectKeyLayout, prefix: [UInt8], delimiter: [UInt8], startAfter: [UInt8], maxKeys: Int,
        withManifests: Bool
    ) {
        self.layout = layout
        self.prefix = prefix
        self.delimiter = delimiter
        self.startAfter = startAfter
        self.maxKeys = maxKeys
        self.withManifests = withManifests
        indexedPrefix = layout.bucketPrefix + prefix.prefix(layout.keptLength)
    }

    private enum Step {
        case next
        case stop
        case seek([UInt8])
    }

    private var isFull: Bool { listing.objects.count + listing.commonPrefixes.count >= maxKeys }

    mutating func run(_ txn: borrowing Transaction, _ table: Table) throws {
        guard maxKeys > 0 else { return }
        var seekTo: [UInt8]? = indexedPrefix
        if !startAfter.isEmpty {
            let after = layout.seekKey(after: startAfter)
            if indexedPrefix.lexicographicallyPrecedes(after) { seekTo = after }
        }
        while let start = seekTo {
            seekTo = nil
            var unorderedBlock: [UInt8]?
            try txn.scan(table, from: start) { indexKey, value in
                guard ByteOrder.starts(indexKey, with: indexedPrefix) else { return false }
                if let skip = skipping {
                    if ByteOrder.starts(indexKey, with: skip) { return true }
                    skipping = nil
                }
                let part = Array(indexKey[layout.bucketPrefix.count...])
                let step: Step
                if part.count > layout.keptLength, orderedBlock?.elementsEqual(part.prefix(layout.keptLength)) != true {
                    let kept = Array(part.prefix(layout.keptLength))
                    if !delimiter.isEmpty, let cut = Self.find(delimiter, in: kept, from: prefix.count) {
                        // A delimiter in the kept bytes rolls the whole block into one prefix.
                        step = rollUp(Array(kept[0..<cut + delimiter.count]))
                    } else {
                        unorderedBlock = kept
                        seekTo = Array(indexKey)
                        return false
                    }
                } else {
                    step = try consider(key: part, value: value)
                }
                switch step {
                case .next: return true
                case .stop: return false
                case .seek(let key):
                    seekTo = key
                    return false
                }
            }
            guard let kept = unorderedBlock, let blockStart = seekTo else { continue }
            if try layout.hasHashedEntries(after: kept, in: table, txn) {
                seekTo = try collectBlock(kept, from: blockStart, txn, table)
            } else {
                orderedBlock = kept
            }
        }
    }

    /// An entry in key order: listed, rolled into a common prefix, or passed over.
    private mutating func consider(key: [UInt8], value: UnsafeRawBufferPointer) throws -> Step {
        guard ByteOrder.starts(key, with: prefix) else { return .next }
        if !delimiter.isEmpty, let cut = Self.find(delimiter, in: key, from: prefix.count) {
            return rollUp(Array(key[0..<cut + delimiter.count]))
        }
        guard ByteOrder.less(startAfter, key) else { return .next }
        if isFull {
            listing.isTruncated = true
            return .stop
        }
        append(key: key, record: try ObjectRecord.decodeValue(value, withManifest: withManifests))
        return .next
    }

    /// Lists a common prefix (unless an earlier page did) and moves past every key under it.
    private mutating func rollUp(_ common: [UInt8]) -> Step {
        // A prefix at or before the marker was returned on an earlier page.
        if ByteOrder.less(startAfter, common) {
            if isFull {
                listing.isTruncated = true
                return .stop
            }
            append(key: common, record: nil)
        }
        skipping = layout.bucketPrefix + common
        // 0xFF never occurs in UTF-8: this sorts after every key under the prefix, and before
        // hashed entries only when the prefix is exactly the kept bytes (`skipping` takes those).
        return common.count < layout.room ? .seek(layout.bucketPrefix + common + [ObjectKeyLayout.hashMarker]) : .next
    }

    private mutating func append(key: [UInt8], record: ObjectRecord?) {
        let name = String(decoding: key, as: UTF8.self)
        if let record {
            listing.objects.append((name, record))
        } else {
            listing.commonPrefixes.append(name)
        }
        listing.lastReturned = name
    }

    /// Reads a block with hashed entries from `start` (its earlier entries are at or before
    /// `startAfter`), lists what the page can take of it in key order, and returns where the
    /// walk goes on (nil when the page is full or the table ends).
    private mutating func collectBlock(
        _ kept: [UInt8], from start: [UInt8], _ txn: borrowing Transaction, _ table: Table
    ) throws -> [UInt8]? {
        let blockPrefix = layout.bucketPrefix + kept
        var smallest = SmallestEntries(limit: maxKeys - listing.objects.count - listing.commonPrefixes.count + 1)
        var after: [UInt8]?
        try txn.scan(table, from: start) { indexKey, value in
            guard indexKey.count > blockPrefix.count, ByteOrder.starts(indexKey, with: blockPrefix) else {
                after = Array(indexKey)
                return false
            }
            let part = UnsafeRawBufferPointer(rebasing: indexKey[layout.bucketPrefix.count...])
            let key = try layout.objectKey(part: part, value: value)
            guard ByteOrder.starts(key, with: prefix) else { return true }
            if !delimiter.isEmpty, let cut = Self.find(delimiter, in: key, from: prefix.count) {
                let common = Array(key[0..<cut + delimiter.count])
                if ByteOrder.less(startAfter, common), smallest.wouldKeep(common) {
                    smallest.insert(common, record: nil)
                }
            } else if ByteOrder.less(startAfter, key), smallest.wouldKeep(key) {
                smallest.insert(key, record: try ObjectRecord.decodeValue(value, withManifest: withManifests))
            }
            return true
        }
        for entry in smallest.entries {
            if isFull {
                listing.isTruncated = true
                return nil
            }
            append(key: entry.key, record: entry.record)
        }
        return after
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from: Int) -> Int? {
        guard !needle.isEmpty, needle.count <= haystack.count, from <= haystack.count - needle.count else { return nil }
        var i = from
        while i <= haystack.count - needle.count {
            if haystack[i] == needle[0] && haystack[i..<i + needle.count].elementsEqual(needle) { return i }
            i += 1
        }
        return nil
    }
}

/// The `limit` smallest distinct keys seen (common prefixes carry no record), in order.
struct SmallestEntries {
    let limit: Int
    private(set) var entries: [(key: [UInt8], record: ObjectRecord?)] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func wouldKeep(_ key: [UInt8]) -> Bool {
        entries.count < limit || ByteOrder.less(key, entries[entries.count - 1].key)
    }

    mutating func insert(_ key: [UInt8], record: ObjectRecord?) {
        var low = 0
        var high = entries.count
        while low < high {
            let middle = (low + high) / 2
            if ByteOrder.less(entries[middle].key, key) { low = middle + 1 } else { high = middle }
        }
        if low < entries.count && entries[low].key == key { return }
        entries.insert((key, record), at: low)
        if entries.count > limit { entries.removeLast() }
    }
}

/// Byte-wise comparisons of keys (memcmp, as LMDB orders them): keys sharing hundreds of bytes
/// are compared often in a block of long keys.
enum ByteOrder {
    static func less(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        let common = Swift.min(a.count, b.count)
        let order = a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common) }
        }
        return order != 0 ? order < 0 : a.count < b.count
    }

    static func starts(_ bytes: UnsafeRawBufferPointer, with prefix: [UInt8]) -> Bool {
        guard bytes.count >= prefix.count else { return false }
        guard !prefix.isEmpty else { return true }
        return prefix.withUnsafeBytes { memcmp(bytes.baseAddress!, $0.baseAddress!, prefix.count) == 0 }
    }

    static func starts(_ bytes: [UInt8], with prefix: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { starts($0, with: prefix) }
    }
}
