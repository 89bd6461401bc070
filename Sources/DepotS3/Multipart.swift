import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotStorage
import HTTPTypes
import HummingbirdCore
import NIOCore

extension S3Service {
    static let minimumPartSize: UInt64 = 5 << 20

    func createMultipartUpload(_ c: S3Context, bucket: String, key: String) async throws -> Response {
        try authorize(c, .write, bucket: bucket, key: key)
        try engine.checkKeyLength(bucket: bucket, key: key)
        try requireBucket(bucket)
        let r = c.request
        var metadata = try requestObjectMetadata(c, bucket: bucket)
        // Every part follows the upload's encryption (UploadPart refuses the headers).
        // SSE-C: every part must carry the same key (UploadPart); the key itself is not kept.
        let customerKey = try requestCustomerKey(r)
        try refuseMixedEncryption(r, customerKey)
        let encryption =
            try customerKey.map { CustomerKeyEncryption.newObject(customerKey: $0.key).0 }
            ?? objectEncryption({ r.header($0) }, bucket: bucket)
        metadata.systemMetadata = ObjectRecord.replacingEncryption(metadata.systemMetadata, with: encryption)
        var algorithm = ""
        if let text = r.header("x-amz-checksum-algorithm") {
            guard let a = ChecksumAlgorithm(headerValue: text) else {
                throw S3Error.invalidRequest("Checksum algorithm \(text) is not supported.")
            }
            algorithm = a.rawValue
        }
        let type = r.header("x-amz-checksum-type")?.uppercased() ?? (algorithm.isEmpty ? "" : "COMPOSITE")
        guard ["", "COMPOSITE", "FULL_OBJECT"].contains(type) else {
            throw S3Error.invalidRequest("x-amz-checksum-type must be COMPOSITE or FULL_OBJECT")
        }
        if type == "FULL_OBJECT" && (algorithm == "SHA1" || algorithm == "SHA256") {
            throw S3Error.invalidRequest("The FULL_OBJECT checksum type is only supported for CRC algorithms.")
        }
        let id = try await engine.createUpload(
            UploadRecord(
                bucket: bucket, key: key, created: Engine.now(), metadata: metadata, checksumAlgorithm: algorithm,
                checksumType: type))
        var xml = XMLWriter()
        xml.group("InitiateMultipartUploadResult", namespace: true) { x in
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("UploadId", id)
        }
        var response = xmlResponse(xml)
        ServerSideEncryption.addHeaders(encryption, &response.headers)
        customerKey?.addHeaders(&response.headers)
        if !algorithm.isEmpty {
            response.headers[.init("x-amz-checksum-algorithm")!] = algorithm
            response.headers[.init("x-amz-checksum-type")!] = type
        }
        return response
    }

    /// The upload, checked to belong to this bucket and key.
    func requireUpload(_ id: String, bucket: String, key: String) throws -> UploadRecord {
        guard let upload = try engine.upload(id), upload.bucket == bucket, upload.key == key else {
            throw S3Error.from(EngineError.noSuchUpload(id))
        }
        return upload
    }

    func partNumber(_ c: S3Context) throws -> Int {
        guard let text = c.request.query["partNumber"] else {
            throw S3Error.invalidArgument("Part number must be an integer between 1 and 10000, inclusive")
        }
        return try IntegerParameter.partNumber.parse(text)
    }

    func uploadPart(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        try authorize(c, .write, bucket: bucket, key: key)
        let number = try partNumber(c)
        let id = c.request.query["uploadId"] ?? ""
        _ = try requireUpload(id, bucket: bucket, key: key)
        var checksums = try DeclaredChecksums(c.request)
        let contentMD5 = try contentMD5Header(c.request)
        var headers = HTTPFields()

        // SSE-C: the part's key (the upload's) in the usual headers; an UploadPartCopy's source
        // key in x-amz-copy-source-server-side-encryption-customer-*.
        let customerKey = try requestCustomerKey(c.request)
        if let source = c.request.header("x-amz-copy-source") {
            let sourceKey = try requestCustomerKey(c.request, prefix: CustomerKeyHeaders.copySourcePrefix)
            let reader = try openCopySource(c, source, customerKey: sourceKey)
            var range = 0..<reader.record.size
            if let rangeText = c.request.header("x-amz-copy-source-range") {
                range = try copySourceRange(rangeText, size: reader.record.size)
            }
            try requireAllowedSize(UInt64(range.count))
            let session = try await startPartSession(uploadId: id, number: number, customerKey: customerKey)
            try await copyBytes(reader, range: range, into: session)
            let part = try await session.commitPart()
            var xml = XMLWriter()
            xml.group("CopyPartResult", namespace: true) { x in
                x.element("LastModified", iso8601(milliseconds: part.created))
                x.element("ETag", "\"\(part.etag)\"")
            }
            var response = xmlResponse(xml)
            ServerSideEncryption.addHeaders(session.encryption, &response.headers)
            customerKey?.addHeaders(&response.headers)
            return response
        }

        let length = try declaredLength(c.request)
        try requireAllowedSize(length)
        // 507 (space) or 403 QuotaExceeded before the body is read
        try engine.admitUpload(declaredBytes: length, owner: c.account.accessKey, bucket: bucket, key: key)
        let session = try await startPartSession(uploadId: id, number: number, customerKey: customerKey)
        try await receive(c, body: body, length: length, into: session, checksums: &checksums, contentMD5: contentMD5)
        let verified = try checksums.verify()
        let part = try await session.commitPart(checksums: verified)
        headers[.eTag] = "\"\(part.etag)\""
        for (algorithm, value) in verified { headers[HTTPField.Name("x-amz-checksum-" + algorithm.lowercased())!] = value }
        // The part is in its upload's encryption, and says so as S3 does.
        ServerSideEncryption.addHeaders(session.encryption, &headers)
        customerKey?.addHeaders(&headers)
        return emptyResponse(.ok, headers: headers)
    }

    /// A part's session, in its upload's encryption: an SSE-C upload's part needs the upload's
    /// key (none 400 InvalidRequest, another 400 InvalidArgument), and a key is refused for an
    /// upload that was not started with SSE-C.
    func startPartSession(uploadId id: String, number: Int, customerKey: CustomerKeyHeaders?) async throws -> IngestSession {
        let session: IngestSession
        do {
            session = try await engine.startUploadPart(uploadId: id, number: number, customerKey: customerKey?.key)
        } catch let refusal as CustomerKeyEncryption.Refusal {
            throw refusal == .keyRequired
                ? S3Error.invalidRequest(
                    "The multipart upload initiate requested encryption. Subsequent part requests must include the appropriate encryption parameters."
                )
                : S3Error.invalidArgument(
                    "The provided encryption parameters did not match the ones used originally (x-amz-server-side-encryption-customer-key)."
                )
        }
        if customerKey != nil, !CustomerKeyEncryption.isCustomerKey(session.encryption) {
            throw S3Error.invalidRequest(
                "The encryption parameters are not applicable to this upload (it was not started with SSE-C).")
        }
        return session
    }

    func completeMultipartUpload(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        try authorize(c, .write, bucket: bucket, key: key)
        let id = c.request.query["uploadId"] ?? ""
        if try engine.upload(id) == nil,
            let done = try engine.recentlyCompletedObject(uploadId: id, bucket: bucket, key: key)
        {
            // A client retrying Complete after a timeout: the same answer, as AWS and MinIO give.
            _ = try await readSmallBody(c, body, limit: 4 << 20)
            return completeResult(
                c.request, bucket: bucket, key: key, record: done,
                customerKey: try completionCustomerKey(c.request, encryption: done.encryption))
        }
        let upload = try requireUpload(id, bucket: bucket, key: key)
        let customerKey = try completionCustomerKey(
            c.request, encryption: ObjectEncryption(metadata: upload.metadata.systemMetadata))
        let xml = try XMLElement.parse(try await readSmallBody(c, body, limit: 4 << 20))
        guard xml.name == "CompleteMultipartUpload" else { throw S3Error.malformedXML() }
        var requested: [(number: Int, etag: String?)] = []
        var requestedChecksums: [Int: String] = [:]
        for part in xml.children("Part") {
            guard let number = part.child("PartNumber").flatMap({ Int($0.text) }) else { throw S3Error.malformedXML() }
            requested.append((number, part.child("ETag").map { unquoteETag($0.text) }))
            if !upload.checksumAlgorithm.isEmpty,
                let value = part.child("Checksum" + upload.checksumAlgorithm)?.text
            {
                requestedChecksums[number] = value
            }
        }
        guard !requested.isEmpty else {
            throw S3Error("MalformedXML", .badRequest, "You must specify at least one part")
        }
        guard requested.count <= 10000 else { throw S3Error.invalidArgument("At most 10000 parts may be completed") }
        let precondition = try writePreconditions(c.request)
        let claimedChecksums = requestedChecksums
        let algorithm = ChecksumAlgorithm(rawValue: upload.checksumAlgorithm)
        let claimedWhole = try wholeObjectChecksumHeader(c.request, upload: algorithm)
        let checksumType = upload.checksumType
        let record = try await engine.completeUpload(
            uploadId: id, parts: requested, minimumPartSize: Self.minimumPartSize, precondition: precondition
        ) { _, parts in
            try self.requireAllowedSize(parts.reduce(0) { $0 + UInt64($1.size) }, wholeObject: true)
            let md5s = parts.flatMap(\.md5)
            let etag = Hex.encode(DigestAlgorithm.md5.hash(md5s)) + "-\(parts.count)"
            guard let algorithm else { return CompletedObject(etag: etag) }
            var raw: [[UInt8]] = []
            for part in parts {
                guard let value = part.checksums.first(where: { $0.0 == algorithm.rawValue })?.1, let bytes = Base64.decode(value)
                else {
                    throw EngineError.invalidPart("part \(part.number) was uploaded without a \(algorithm.rawValue) checksum")
                }
                if let claimed = claimedChecksums[part.number], claimed != value {
                    throw EngineError.invalidPart("part \(part.number) checksum does not match")
                }
                raw.append(bytes)
            }
            let value: String
            if checksumType == "FULL_OBJECT" {
                value = Base64.encode(combineFullObject(algorithm, raw, sizes: parts.map(\.size)))
            } else {
                let stream = StreamingChecksum(algorithm)
                raw.flatMap { $0 }.withUnsafeBytes { stream.update($0) }
                value = Base64.encode(stream.finalize()) + "-\(parts.count)"
            }
            // The whole object's checksum, when the client sent one, must be what the parts give.
            if let claimedWhole, claimedWhole.split(separator: "-").first != value.split(separator: "-").first {
                throw S3Error(
                    "BadDigest", .badRequest,
                    "The \(algorithm.headerName) you specified did not match the calculated checksum \(value).")
            }
            return CompletedObject(etag: etag, checksums: [(algorithm.rawValue, value)], checksumType: checksumType)
        }
        return completeResult(c.request, bucket: bucket, key: key, record: record, customerKey: customerKey)
    }

    /// The SSE-C key a CompleteMultipartUpload carries (S3 takes it there, optionally), checked
    /// against the upload as UploadPart checks a part's: another key is refused, and so is a key
    /// for an upload that was not started with SSE-C. Without one the answer still names the
    /// algorithm, but not the key's MD5, which Depot does not keep.
    func completionCustomerKey(_ r: S3Request, encryption: ObjectEncryption?) throws -> CustomerKeyHeaders? {
        guard let customerKey = try requestCustomerKey(r) else { return nil }
        guard let encryption, CustomerKeyEncryption.isCustomerKey(encryption) else {
            throw S3Error.invalidRequest(
                "The encryption parameters are not applicable to this upload (it was not started with SSE-C).")
        }
        do {
            try CustomerKeyEncryption.check(encryption, customerKey: customerKey.key)
        } catch {
            throw S3Error.invalidArgument(
                "The provided encryption parameters did not match the ones used originally (x-amz-server-side-encryption-customer-key)."
            )
        }
        return customerKey
    }

    /// The `x-amz-checksum-*` header of a CompleteMultipartUpload: the whole object's checksum (composite
    /// `…-N` or full-object), only meaningful for an upload created with that algorithm.
    func wholeObjectChecksumHeader(_ r: S3Request, upload algorithm: ChecksumAlgorithm?) throws -> String? {
        for candidate in ChecksumAlgorithm.allCases {
            guard let value = r.header(candidate.headerName) else { continue }
            guard candidate == algorithm else {
                throw S3Error.invalidRequest(
                    "The upload was created with checksum algorithm '\(algorithm?.rawValue ?? "none")', so "
                        + "\(candidate.headerName) cannot be checked.")
            }
            let base = value.split(separator: "-", maxSplits: 1).first.map(String.init) ?? ""
            guard let raw = Base64.decode(base), raw.count == candidate.digestByteCount else {
                throw S3Error.invalidRequest("Value for \(candidate.headerName) header is invalid.")
            }
            return value
        }
        return nil
    }

    func completeResult(
        _ r: S3Request, bucket: String, key: String, record: ObjectRecord, customerKey: CustomerKeyHeaders?
    ) -> Response {
        var out = XMLWriter()
        out.group("CompleteMultipartUploadResult", namespace: true) { x in
            // Absolute, as AWS and MinIO answer (and as the POST Object answer is).
            x.element("Location", objectURL(r, bucket: bucket, key: key))
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("ETag", "\"\(record.etag)\"")
            for (algorithm, value) in record.checksums { x.element("Checksum" + algorithm, value) }
            if !record.checksumType.isEmpty { x.element("ChecksumType", record.checksumType) }
        }
        var response = xmlResponse(out)
        addVersionHeaders(record, &response.headers)
        // The object's encryption, as S3 echoes it on Complete (and on PUT).
        ServerSideEncryption.addHeaders(record, &response.headers)
        if CustomerKeyEncryption.isCustomerKey(record.encryption) {
            response.headers[HTTPField.Name(CustomerKeyHeaders.prefix + "algorithm")!] = "AES256"
            customerKey?.addHeaders(&response.headers)
        }
        return response
    }

    func abortMultipartUpload(_ c: S3Context, bucket: String, key: String) async throws -> Response {
        try authorize(c, .write, bucket: bucket, key: key)
        let id = c.request.query["uploadId"] ?? ""
        _ = try requireUpload(id, bucket: bucket, key: key)
        try await engine.abortUpload(uploadId: id)
        return emptyResponse(.noContent)
    }

    func listParts(_ c: S3Context, bucket: String, key: String) throws -> Response {
        try authorize(c, .read, bucket: bucket, key: key)
        let id = c.request.query["uploadId"] ?? ""
        let upload = try requireUpload(id, bucket: bucket, key: key)
        let marker = try IntegerParameter.partNumberMarker.parse(c.request.query["part-number-marker"], default: 0)
        let maxParts = min(try IntegerParameter.maxParts.parse(c.request.query["max-parts"], default: 1000), 1000)
        let (parts, truncated) = try engine.listParts(uploadId: id, after: marker, limit: maxParts)
        var xml = XMLWriter()
        xml.group("ListPartsResult", namespace: true) { x in
            x.element("Bucket", bucket)
            x.element("Key", key)
            x.element("UploadId", id)
            x.group("Initiator") { i in i.element("ID", upload.metadata.owner) }
            x.group("Owner") { o in o.element("ID", upload.metadata.owner) }
            x.element("StorageClass", upload.metadata.requestedStorageClass ?? StorageClasses.standard)
            x.element("PartNumberMarker", marker)
            if let last = parts.last { x.element("NextPartNumberMarker", last.number) }
            x.element("MaxParts", maxParts)
            x.element("IsTruncated", truncated)
            if !upload.checksumAlgorithm.isEmpty { x.element("ChecksumAlgorithm", upload.checksumAlgorithm) }
            for part in parts {
                x.group("Part") { p in
                    p.element("PartNumber", part.number)
                    p.element("LastModified", iso8601(milliseconds: part.created))
                    p.element("ETag", "\"\(part.etag)\"")
                    p.element("Size", part.size)
                    for (algorithm, value) in part.checksums { p.element("Checksum" + algorithm, value) }
                }
            }
        }
        return xmlResponse(xml)
    }

    func listMultipartUploads(_ c: S3Context, bucket: String) throws -> Response {
        let q = c.request.query
        let prefix = q["prefix"] ?? ""
        try requireListable(c, bucket: bucket, prefix: prefix)
        let keyMarker = q["key-marker"] ?? ""
        let idMarker = q["upload-id-marker"] ?? ""
        let maxUploads = min(try IntegerParameter.maxUploads.parse(q["max-uploads"], default: 1000), 1000)
        let all = try engine.listUploads(bucket: bucket)
            .filter { $0.upload.key.hasPrefix(prefix) }
            .sorted { ($0.upload.key, $0.id) < ($1.upload.key, $1.id) }
            .filter { item in
                keyMarker.isEmpty || item.upload.key > keyMarker
                    || (item.upload.key == keyMarker && !idMarker.isEmpty && item.id > idMarker)
            }
        let page = all.prefix(maxUploads)
        var xml = XMLWriter()
        xml.group("ListMultipartUploadsResult", namespace: true) { x in
            x.element("Bucket", bucket)
            x.element("KeyMarker", keyMarker)
            x.element("UploadIdMarker", idMarker)
            if all.count > maxUploads, let last = page.last {
                x.element("NextKeyMarker", last.upload.key)
                x.element("NextUploadIdMarker", last.id)
            }
            x.element("Prefix", prefix)
            x.element("MaxUploads", maxUploads)
            x.element("IsTruncated", all.count > maxUploads)
            for item in page {
                x.group("Upload") { u in
                    u.element("Key", item.upload.key)
                    u.element("UploadId", item.id)
                    u.group("Initiator") { i in i.element("ID", item.upload.metadata.owner) }
                    u.group("Owner") { o in o.element("ID", item.upload.metadata.owner) }
                    u.element("StorageClass", item.upload.metadata.requestedStorageClass ?? StorageClasses.standard)
                    u.element("Initiated", iso8601(milliseconds: item.upload.created))
                    if !item.upload.checksumAlgorithm.isEmpty { u.element("ChecksumAlgorithm", item.upload.checksumAlgorithm) }
                }
            }
        }
        return xmlResponse(xml)
    }

    func contentMD5Header(_ r: S3Request) throws -> [UInt8]? {
        try r.header("content-md5").map { value in
            guard let digest = Base64.decode(value), digest.count == 16 else {
                throw S3Error("InvalidDigest", .badRequest, "The Content-MD5 you specified was invalid.")
            }
            return digest
        }
    }

    /// `x-amz-copy-source-range`: exactly `bytes=first-last`, inside the source. Unlike a GET
    /// Range, nothing is clamped: a part cut short would silently change the assembled object.
    func copySourceRange(_ text: String, size: UInt64) throws -> Range<UInt64> {
        let bounds = text.hasPrefix("bytes=") ? text.dropFirst(6).split(separator: "-", omittingEmptySubsequences: false) : []
        // Digits only: `UInt64(_:)` alone would take a sign (`bytes=+0-+9`).
        func offset(_ s: Substring) -> UInt64? { s.utf8.allSatisfy { $0 >= 48 && $0 <= 57 } ? UInt64(s) : nil }
        guard bounds.count == 2, let first = offset(bounds[0]), let last = offset(bounds[1]), first <= last else {
            throw S3Error(
                "InvalidArgument", .badRequest,
                "The x-amz-copy-source-range value must be of the form bytes=first-last where first and last are the zero-based offsets of the first and last bytes to copy",
                details: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", text)])
        }
        // Well-formed but past the source's end: 400 InvalidRange (s3-tests test_multipart_copy_invalid_range
        // wants InvalidRange with 400 or 416; AWS's message).
        guard last < size else {
            throw S3Error(
                "InvalidRange", .badRequest, "Range specified is not valid for source object of size: \(size)",
                details: [("ArgumentName", "x-amz-copy-source-range"), ("ArgumentValue", text)])
        }
        return first..<last + 1
    }
}

/// The full-object CRC of a multipart upload, from the part CRCs and sizes alone.
func combineFullObject(_ algorithm: ChecksumAlgorithm, _ parts: [[UInt8]], sizes: [UInt64]) -> [UInt8] {
    func value(_ bytes: [UInt8]) -> UInt64 { bytes.reduce(0) { $0 << 8 | UInt64($1) } }
    switch algorithm {
    case .crc32:
        var total = UInt32(value(parts[0]))
        for i in 1..<parts.count { total = CRC32.combine(total, UInt32(value(parts[i])), lengthOfB: sizes[i]) }
        return bigEndianBytes(total)
    case .crc32c:
        var total = UInt32(value(parts[0]))
        for i in 1..<parts.count { total = CRC32C.combine(total, UInt32(value(parts[i])), lengthOfB: sizes[i]) }
        return bigEndianBytes(total)
    case .crc64nvme:
        var total = value(parts[0])
        for i in 1..<parts.count { total = CRC64NVME.combine(total, value(parts[i]), lengthOfB: sizes[i]) }
        return bigEndianBytes(total)
    case .sha1, .sha256:
        return []
    }
}
