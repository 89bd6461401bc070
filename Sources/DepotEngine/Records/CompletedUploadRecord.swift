import DepotStorage

/// A multipart upload that completed, kept after its upload record is gone so that a repeated
/// CompleteMultipartUpload (a client retrying after a timeout) gets the same answer, as AWS and
/// MinIO give, instead of NoSuchUpload. It lives as long as an abandoned upload would
/// (`storage.uploadExpiry`) and, like uploads, is index-only state.
struct CompletedUploadRecord: Sendable {
    var bucket: String
    var key: String
    /// The object's ETag when the upload completed: a repeat is answered only while the object still has it.
    var etag: String
    /// Milliseconds since the epoch.
    var completed: Int64

    func encoded() -> [UInt8] {
        var w = BinaryWriter(capacity: 64 + key.utf8.count)
        w.u8(1)
        w.string(bucket)
        w.string(key)
        w.string(etag)
        w.signed(completed)
        return w.bytes
    }

    static func decode(_ bytes: [UInt8]) throws -> CompletedUploadRecord {
        try bytes.decode { r in
            guard try r.u8() == 1 else { throw DecodeError("unknown completed upload record version") }
            return CompletedUploadRecord(
                bucket: try r.string(), key: try r.string(), etag: try r.string(), completed: try r.signed())
        }
    }
}
