import DepotStorage

/// A multipart upload in progress (S3 CreateMultipartUpload, and tus uploads of the Vault API).
/// Uploads are index-only state: `--rebuild-index` cannot bring back an upload that was in
/// progress, and its parts' chunks then count as garbage.
public struct UploadRecord: Sendable {
    public var bucket: String
    public var key: String
    public var created: Int64
    public var metadata: ObjectMetadata
    /// The checksum algorithm the client announced for its parts, if any ("CRC32", …).
    public var checksumAlgorithm: String
    /// "COMPOSITE" or "FULL_OBJECT".
    public var checksumType: String
    /// Free-form settings of the front door that owns the upload (tus: length and metadata).
    public var extra: [(String, String)]

    public init(
        bucket: String, key: String, created: Int64, metadata: ObjectMetadata, checksumAlgorithm: String = "",
        checksumType: String = "", extra: [(String, String)] = []
    ) {
        self.bucket = bucket
        self.key = key
        self.created = created
        self.metadata = metadata
        self.checksumAlgorithm = checksumAlgorithm
        self.checksumType = checksumType
        self.extra = extra
    }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 256)
        w.u8(1)
        w.string(bucket)
        w.string(key)
        w.signed(created)
        w.string(metadata.owner)
        w.string(metadata.contentType)
        w.pairs(metadata.systemMetadata)
        w.pairs(metadata.userMetadata)
        w.pairs(metadata.tags)
        w.pairs(metadata.checksums)
        w.string(metadata.checksumType)
        w.string(checksumAlgorithm)
        w.string(checksumType)
        w.pairs(extra)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> UploadRecord {
        try bytes.decode { r in
            guard try r.u8() == 1 else { throw DecodeError("unknown upload record version") }
            let bucket = try r.string()
            let key = try r.string()
            let created = try r.signed()
            let metadata = ObjectMetadata(
                owner: try r.string(), contentType: try r.string(), systemMetadata: try r.pairs(),
                userMetadata: try r.pairs(), tags: try r.pairs(), checksums: try r.pairs(), checksumType: try r.string())
            return UploadRecord(
                bucket: bucket, key: key, created: created, metadata: metadata, checksumAlgorithm: try r.string(),
                checksumType: try r.string(), extra: try r.pairs())
        }
    }
}

/// One uploaded part: its bytes' manifest (the part holds chunk references until the upload
/// completes or is aborted), MD5, size and checksums.
public struct PartRecord: Sendable {
    public var number: Int
    public var size: UInt64
    public var md5: [UInt8]
    public var created: Int64
    public var checksums: [(String, String)]
    public var manifest: [ChunkRef]

    public var etag: String { md5.map { byte in String(byte, radix: 16).leftPadded(2) }.joined() }

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + manifest.count * 36)
        w.u8(1)
        w.varint(number)
        w.varint(size)
        w.blob(md5)
        w.signed(created)
        w.pairs(checksums)
        w.varint(manifest.count)
        for c in manifest {
            w.raw(c.hash)
            w.varint(UInt64(c.length))
        }
        return w.bytes
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, withManifest: Bool = true) throws -> PartRecord {
        var r = BinaryReader(bytes)
        guard try r.u8() == 1 else { throw DecodeError("unknown part record version") }
        var part = PartRecord(
            number: try r.int(), size: try r.varint(), md5: try r.blob(), created: try r.signed(), checksums: try r.pairs(),
            manifest: [])
        if withManifest {
            let n = try r.int()
            guard n <= r.remaining / 33 else { throw DecodeError("bad manifest length") }
            for _ in 0..<n { part.manifest.append(ChunkRef(hash: try r.raw(32), length: UInt32(try r.varint()))) }
        }
        return part
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { count >= width ? self : String(repeating: "0", count: width - count) + self }
}

extension Tables {
    /// parts key: upload id, 0x00, part number (big-endian, so parts list in order).
    static func partKey(upload: String, number: Int) -> [UInt8] {
        Array(upload.utf8) + [0] + withUnsafeBytes(of: UInt32(number).bigEndian) { Array($0) }
    }

    static func partPrefix(upload: String) -> [UInt8] { Array(upload.utf8) + [0] }
}
