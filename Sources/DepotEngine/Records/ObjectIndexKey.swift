import DepotHashing
import DepotStorage

/// The one place that turns (bucket, object key) into a key of the `objects` table.
///
/// Why this shape: LMDB refuses keys longer than 511 bytes (MDB_MAXKEYSIZE of the liblmdb we
/// link, `mdb_env_get_maxkeysize`), while S3 allows object keys of 1,024 bytes in buckets named
/// with up to 63, and an index key is `bucket NUL key`.
/// - A key that fits is stored as itself, exactly as before long keys were accepted, so data
///   directories made earlier read without any migration.
/// - A longer key keeps its first `keptLength` bytes, then 0xFF, then the SHA-256 of the whole
///   key; its index value carries the full key (ObjectRecord version 3), which point lookups
///   compare, and listings report. 0xFF never occurs in UTF-8, so such an entry can never be
///   taken for a key stored as itself, and it sorts after every one that starts with the same
///   kept bytes.
/// Index order is S3's listing order (UTF-8 byte order of the keys) everywhere except inside a
/// "block": the entries longer than `keptLength` that share their first `keptLength` bytes. A
/// block holding hashed entries is put back in key order by the listing (List.swift).
/// The limit is the fixed 511 rather than the library's value, so that the layout never depends
/// on how liblmdb was built; the engine refuses to start with a library allowing less.
struct ObjectKeyLayout {
    /// The longest LMDB key this layout makes.
    static let indexKeyLimit = 511
    /// S3's longest object key, in UTF-8 bytes.
    static let maximumKeyLength = 1024
    /// Separates the kept bytes of a long key from its digest.
    static let hashMarker: UInt8 = 0xFF
    static let digestLength = 32

    /// `bucket NUL`: every index key of the bucket starts with it.
    let bucketPrefix: [UInt8]
    /// The longest key stored as itself in this bucket.
    let room: Int
    /// How many first bytes of a longer key its index key keeps.
    let keptLength: Int

    /// `suffixLength`: bytes a table appends after the key part (the versions table's version
    /// suffix, VersionKey.swift), taken from the room so every index key stays within 511 bytes.
    init(bucket: String, suffixLength: Int = 0) {
        bucketPrefix = Array(bucket.utf8) + [0]
        room = Self.indexKeyLimit - bucketPrefix.count - suffixLength
        keptLength = max(0, room - 1 - Self.digestLength)
    }

    /// The index key of `key`, and whether it is hashed (its value must then carry the key).
    func indexKey(_ key: String) -> (bytes: [UInt8], isHashed: Bool) {
        let keyBytes = Array(key.utf8)
        if keyBytes.count <= room { return (bucketPrefix + keyBytes, false) }
        let digest = DigestAlgorithm.sha256.hash(keyBytes)
        return (bucketPrefix + keyBytes.prefix(keptLength) + [Self.hashMarker] + digest, true)
    }

    /// Whether the key part of an index key (what follows `bucket NUL`) is a hashed long key.
    func isHashed<Bytes: Collection>(_ part: Bytes) -> Bool where Bytes.Element == UInt8, Bytes.Index == Int {
        part.count > keptLength && part[part.startIndex + keptLength] == Self.hashMarker
    }

    /// Where a listing that starts after `startAfter` seeks to: every key greater than it sorts
    /// at or after this (the listing drops the entries up to it). `startAfter` itself when it
    /// would be stored as itself, else the start of its block; at most 511 bytes either way.
    func seekKey(after startAfter: [UInt8]) -> [UInt8] {
        bucketPrefix + (startAfter.count <= room ? startAfter[...] : startAfter.prefix(keptLength))
    }

    /// The object key an index entry stands for: the key part itself, or the key in the value.
    func objectKey(part: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) throws -> [UInt8] {
        guard isHashed(part) else { return Array(part) }
        guard let stored = try ObjectRecord.storedKey(inValue: value) else {
            throw DecodeError("hashed object index entry without its key")
        }
        return Array(stored.utf8)
    }
}

extension ObjectKeyLayout {
    /// The bucket and key an index entry stands for, as fsck and the index dump show them; nil
    /// when a hashed entry does not carry the key its index key was made from.
    static func name(indexKey: UnsafeRawBufferPointer, value: UnsafeRawBufferPointer) -> (bucket: String, key: String)? {
        let bucketBytes = indexKey.prefix { $0 != 0 }
        let bucket = String(decoding: bucketBytes, as: UTF8.self)
        let layout = ObjectKeyLayout(bucket: bucket)
        guard indexKey.count >= layout.bucketPrefix.count else { return nil }
        let part = UnsafeRawBufferPointer(rebasing: indexKey[layout.bucketPrefix.count...])
        guard let keyBytes = try? layout.objectKey(part: part, value: value) else { return nil }
        let key = String(decoding: keyBytes, as: UTF8.self)
        guard !layout.isHashed(part) || layout.indexKey(key).bytes.elementsEqual(indexKey) else { return nil }
        return (bucket, key)
    }
}

extension ObjectRecord {
    /// The record of `key` in an `objects` value, or nil when it is a hashed entry carrying
    /// another key.
    static func decodeEntry(_ value: [UInt8], key: String, isHashed: Bool, withManifest: Bool) throws -> ObjectRecord? {
        try value.withUnsafeBytes { bytes in
            if isHashed, try ObjectRecord.storedKey(inValue: bytes) != key { return nil }
            return try ObjectRecord.decodeValue(bytes, withManifest: withManifest)
        }
    }
}

extension IndexStore {
    /// The object's record read on its own (`readOne`: one statement on PostgreSQL).
    func object(_ table: Table, bucket: String, key: String) throws -> ObjectRecord? {
        let (indexKey, isHashed) = ObjectKeyLayout(bucket: bucket).indexKey(key)
        guard let value = try readOne(table, indexKey) else { return nil }
        return try ObjectRecord.decodeEntry(value, key: key, isHashed: isHashed, withManifest: true)
    }
}

/// Reads and writes of the `objects` table by (bucket, key): every access goes through here, so
/// the layout above is applied and checked in one place.
extension Transaction {
    /// The object's record, or nil. A hashed entry answers only for the key it carries (two keys
    /// sharing a SHA-256 and their first bytes would have to collide).
    func object(_ table: Table, bucket: String, key: String, withManifest: Bool = true) throws -> ObjectRecord? {
        let (indexKey, isHashed) = ObjectKeyLayout(bucket: bucket).indexKey(key)
        guard let value = try get(table, indexKey) else { return nil }
        return try ObjectRecord.decodeEntry(value, key: key, isHashed: isHashed, withManifest: withManifest)
    }

    func containsObject(_ table: Table, bucket: String, key: String) throws -> Bool {
        try object(table, bucket: bucket, key: key, withManifest: false) != nil
    }

    /// Stores the object's record; a hashed entry carries its key. Refuses to overwrite another
    /// key's entry rather than lose it (a SHA-256 collision).
    func putObject(_ table: Table, bucket: String, key: String, _ record: ObjectRecord) throws {
        let (indexKey, isHashed) = ObjectKeyLayout(bucket: bucket).indexKey(key)
        if isHashed, let existing = try get(table, indexKey),
            try existing.withUnsafeBytes({ try ObjectRecord.storedKey(inValue: $0) }) != key
        {
            throw EngineError.corrupt("the index key of \(bucket)/\(key) is taken by another key")
        }
        try put(table, indexKey, record.encodedValue(key: isHashed ? key : nil))
    }

    /// Removes the object's entry; false when there was none.
    @discardableResult
    func deleteObject(_ table: Table, bucket: String, key: String) throws -> Bool {
        guard try containsObject(table, bucket: bucket, key: key) else { return false }
        return try delete(table, ObjectKeyLayout(bucket: bucket).indexKey(key).bytes)
    }
}

extension ObjectKeyLayout {
    /// Whether any long key kept as `kept` (so hashed, after the marker) is in `table`: a block
    /// of such keys is listed apart to restore S3 order. Shared by the object and version walks.
    func hasHashedEntries(after kept: [UInt8], in table: Table, _ txn: borrowing Transaction) throws -> Bool {
        let marker = bucketPrefix + kept + [Self.hashMarker]
        var found = false
        try txn.scan(table, from: marker) { key, _ in
            found = ByteOrder.starts(key, with: marker)
            return false
        }
        return found
    }
}
