import DepotConfig
import DepotEngine
import DepotHashing
import HTTPTypes
import HummingbirdCore
import NIOCore

extension S3Service {
    func putObject(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        let r = c.request
        // Authorized by the dispatcher (the endpoint's `.write`); the bucket record is the one it read.
        let bucketRecord = try requireBucket(c, bucket)
        try engine.checkKeyLength(bucket: bucket, key: key)
        let length = try declaredLength(r)
        try requireAllowedSize(length)
        // 507 (space) or 403 QuotaExceeded before the body is read
        try engine.admitUpload(declaredBytes: length, owner: c.account.accessKey, bucket: bucket, key: key)
        let contentMD5 = try contentMD5Header(r)
        var checksums = try DeclaredChecksums(r)
        var metadata = try requestObjectMetadata(c, bucket: bucket)
        let precondition = try writePreconditions(r)
        let customerKey = try requestCustomerKey(r)
        // SSE-C takes the place of any other encryption, the bucket's default too.
        let encryption = customerKey == nil ? try objectEncryption({ r.header($0) }, bucket: bucket, record: bucketRecord) : nil
        try refuseMixedEncryption(r, customerKey)
        let session = try engine.startIngest(bucket: bucket, key: key, record: bucketRecord)
        if let encryption { try await session.encrypt(with: encryption) }
        if let customerKey {
            let (encryption, domain) = CustomerKeyEncryption.newObject(customerKey: customerKey.key)
            session.encrypt(with: encryption, in: domain)
        }

        try await receive(c, body: body, length: length, into: session, checksums: &checksums, contentMD5: contentMD5)
        metadata.checksums = try checksums.verify()
        if !metadata.checksums.isEmpty { metadata.checksumType = "FULL_OBJECT" }
        let record = try await session.commit(metadata: metadata, precondition: precondition)

        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
        for (algorithm, value) in record.checksums {
            headers[HTTPField.Name("x-amz-checksum-" + algorithm.lowercased())!] = value
        }
        addVersionHeaders(record, &headers)
        customerKey?.addHeaders(&headers)
        addExpirationHeader(bucket: bucket, key: key, record: record, to: &headers)
        return emptyResponse(.ok, headers: headers)
    }

    /// The body length the client declared; S3 refuses bodies of unknown length on PUT.
    func declaredLength(_ r: S3Request) throws -> UInt64 {
        if let text = r.header("x-amz-decoded-content-length") {
            guard let n = UInt64(text) else { throw S3Error.invalidArgument("x-amz-decoded-content-length is not a number") }
            return n
        }
        guard let text = r.headers[.contentLength] else {
            throw S3Error("MissingContentLength", .lengthRequired, "You must provide the Content-Length HTTP header.")
        }
        guard let n = UInt64(text) else { throw S3Error.invalidArgument("Content-Length is not a number") }
        return n
    }

    /// `If-None-Match: *` and `If-Match: etag` on writes, checked inside the commit so that two
    /// racing writers cannot both pass.
    func writePreconditions(_ r: S3Request) throws -> CommitPrecondition? {
        let ifNoneMatch = r.headers[.ifNoneMatch]
        let ifMatch = r.headers[.ifMatch].map(unquoteETag)
        if let ifNoneMatch, ifNoneMatch != "*" {
            throw S3Error.notImplemented("If-None-Match with a value other than *")
        }
        guard ifNoneMatch != nil || ifMatch != nil else { return nil }
        return { current in
            if ifNoneMatch != nil, current != nil { throw EngineError.preconditionFailed }
            if let ifMatch {
                guard let current else { throw EngineError.noSuchKey("") }
                if ifMatch != "*" && ifMatch != current.etag { throw EngineError.preconditionFailed }
            }
        }
    }
}

func unquoteETag(_ text: String) -> String {
    var t = text.trimmedSpaces()
    if t.hasPrefix("W/") { t.removeFirst(2) }
    if t.count >= 2, t.hasPrefix("\""), t.hasSuffix("\"") { t = String(t.dropFirst().dropLast()) }
    return t
}
