import DepotConfig
import DepotEngine
import DepotSigV4
import DepotStorage
import HTTPTypes
import HummingbirdCore
import NIOCore

extension S3Service {
    /// `x-amz-copy-source: [/]bucket/key[?versionId=id]`, URL-encoded.
    func parseCopySource(_ text: String) throws -> (bucket: String, key: String, version: VersionSelector?) {
        var source = Substring(text)
        var selector: VersionSelector?
        if let q = source.firstIndex(of: "?") {
            let query = source[source.index(after: q)...]
            if !query.isEmpty {
                guard query.hasPrefix("versionId="), let version = VersionSelector(String(query.dropFirst(10))) else {
                    throw S3Error.invalidArgument("Invalid version id specified")
                }
                selector = version
            }
            source = source[..<q]
        }
        if source.hasPrefix("/") { source = source.dropFirst() }
        guard let decoded = SigV4Encoding.decodeUTF8(source, plusAsSpace: false), let slash = decoded.firstIndex(of: "/") else {
            throw S3Error.invalidArgument("Copy Source must mention the source bucket and key: sourcebucket/sourcekey")
        }
        let key = String(decoded[decoded.index(after: slash)...])
        guard !key.isEmpty else { throw S3Error.invalidArgument("Copy Source must mention the source bucket and key") }
        return (String(decoded[..<slash]), key, selector)
    }

    /// The source of an UploadPartCopy, opened with the SSE-C source key when the request carries
    /// one (`x-amz-copy-source-server-side-encryption-customer-*`): an SSE-C source without it is
    /// 400 InvalidRequest, with another key 403 AccessDenied (S3Error.from), and a key for a
    /// source that is not SSE-C is 400 InvalidRequest, as GET answers.
    func openCopySource(_ c: S3Context, _ text: String, customerKey: CustomerKeyHeaders? = nil) throws -> ObjectReader {
        let source = try parseCopySource(text)
        try authorize(c, .read, bucket: source.bucket, key: source.key, policyAction: Self.copySourceAction(source.version))
        _ = try requireBucket(c, source.bucket)
        guard
            let reader = try engine.openObject(
                bucket: source.bucket, key: source.key, version: source.version, customerKey: customerKey?.key)
        else {
            if let version = source.version { throw EngineError.noSuchVersion(key: source.key, versionId: version.text) }
            throw S3Error.noSuchKey(source.key)
        }
        if reader.record.isDeleteMarker { throw EngineError.deleteMarkerSource(source.key) }
        if customerKey != nil, !CustomerKeyEncryption.isCustomerKey(reader.record.encryption) {
            throw S3Error.invalidRequest("The encryption parameters are not applicable to this object (the copy source).")
        }
        try checkCopySourceConditions(c.request, reader.record)
        return reader
    }

    /// `x-amz-copy-source-if-*`, with the precedence S3 documents: a matching If-Match wins over
    /// a failing If-Unmodified-Since, a failing If-None-Match over If-Modified-Since.
    func checkCopySourceConditions(_ r: S3Request, _ record: ObjectRecord) throws {
        let lastModified = record.created / 1000
        let ifMatch = r.header("x-amz-copy-source-if-match").map(unquoteETag)
        let ifNoneMatch = r.header("x-amz-copy-source-if-none-match").map(unquoteETag)
        if let ifMatch {
            if ifMatch != record.etag && ifMatch != "*" { throw S3Error.preconditionFailed() }
        } else if let since = r.header("x-amz-copy-source-if-unmodified-since").flatMap(HTTPDate.unixSeconds),
            lastModified > since
        {
            throw S3Error.preconditionFailed()
        }
        if let ifNoneMatch {
            if ifNoneMatch == record.etag || ifNoneMatch == "*" { throw S3Error.preconditionFailed() }
        } else if let since = r.header("x-amz-copy-source-if-modified-since").flatMap(HTTPDate.unixSeconds), lastModified <= since
        {
            throw S3Error.preconditionFailed()
        }
    }

    /// Feeds a byte range of an object into an upload session (UploadPartCopy, with or without a
    /// range). An evicted source is read through from its tier; if that cannot deliver every byte
    /// the copy fails, so no part is ever committed short or empty.
    func copyBytes(_ reader: ObjectReader, range: Range<UInt64>, into session: IngestSession) async throws {
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        for try await piece in try reader.bytes(range) {
            if piece.count > buffer.count { buffer = [UInt8](repeating: 0, count: piece.count) }
            try buffer.withUnsafeMutableBytes { out in
                let slice = UnsafeMutableRawBufferPointer(rebasing: out[0..<piece.count])
                try piece.copy(into: slice)
                try session.write(UnsafeRawBufferPointer(slice))
            }
        }
        guard session.size == UInt64(range.count) else {
            throw S3Error.internalError("the copy source gave \(session.size) of \(range.count) bytes")
        }
    }

    /// CopyObject shares the source's chunks: no byte is rewritten.
    func copyObject(_ c: S3Context, bucket: String, key: String, source text: String) async throws -> Response {
        // The destination is authorized by the dispatcher (the endpoint's `.write`); the source
        // is another resource, authorized here with the policy's read action for it.
        try engine.checkKeyLength(bucket: bucket, key: key)
        let source = try parseCopySource(text)
        try authorize(c, .read, bucket: source.bucket, key: source.key, policyAction: Self.copySourceAction(source.version))
        _ = try requireBucket(c, source.bucket)
        let bucketRecord = try requireBucket(c, bucket)
        let r = c.request
        let directive = r.header("x-amz-metadata-directive")?.uppercased() ?? "COPY"
        let taggingDirective = r.header("x-amz-tagging-directive")?.uppercased() ?? "COPY"
        guard directive == "COPY" || directive == "REPLACE" else { throw S3Error.invalidArgument("Unknown metadata directive.") }
        guard taggingDirective == "COPY" || taggingDirective == "REPLACE" else {
            throw S3Error.invalidArgument("Unknown tagging directive.")
        }
        let replacement = try requestObjectMetadata(c, bucket: bucket)
        // The destination's encryption: asked for, else the bucket default, else the source's
        // own (the copy shares its chunks; see ServerSideEncryption.swift).
        // SSE-C: the destination's key, and the source's key (x-amz-copy-source-...-customer-*).
        let customerKey = try requestCustomerKey(r)
        let sourceCustomerKey = try requestCustomerKey(r, prefix: CustomerKeyHeaders.copySourcePrefix)
        try refuseMixedEncryption(r, customerKey)
        let requestedEncryption =
            customerKey == nil ? try objectEncryption({ r.header($0) }, bucket: bucket, record: bucketRecord) : nil
        let sameObject = source.bucket == bucket && source.key == key && source.version == nil
        // Asking for encryption is a change of its own: copying an object onto itself with the
        // header is how existing objects are encrypted in place.
        let asksEncryption = r.header(ServerSideEncryption.algorithmHeader) != nil || customerKey != nil
        // So is a storage class: copying onto itself with one moves an object to (or back from) a tier.
        let asksStorageClass = r.header(Self.storageClassHeader) != nil
        if sameObject && directive == "COPY" && taggingDirective == "COPY" && !asksEncryption && !asksStorageClass {
            throw S3Error(
                "InvalidRequest", .badRequest,
                "This copy request is illegal because it is trying to copy an object to itself without changing the object's metadata, storage class, website redirect location or encryption attributes."
            )
        }
        let request = r
        let owner = c.account.accessKey
        let precondition = try writePreconditions(r)
        if let evicted = try engine.openObject(
            bucket: source.bucket, key: source.key, version: source.version, customerKey: sourceCustomerKey?.key),
            !evicted.record.isDeleteMarker,
            !evicted.isLocal || (requestedEncryption.map { $0.keyId != evicted.record.encryption?.keyId } ?? false)
                // An SSE-C source or destination never shares chunks: its domain is its key's.
                || customerKey != nil || CustomerKeyEncryption.isCustomerKey(evicted.record.encryption)
        {
            // Its chunks left with the transition, or are in another encryption domain than the
            // copy's, so there is nothing to share: the bytes are read (through from the tier,
            // or decrypted) into a new object.
            try checkCopySourceConditions(r, evicted.record)
            let original = evicted.record
            try requireAllowedSize(original.size, wholeObject: true)
            var metadata = ObjectMetadata(
                owner: owner, contentType: original.contentType, systemMetadata: original.systemMetadata,
                userMetadata: original.userMetadata, tags: original.tags)
            if directive == "REPLACE" {
                metadata.contentType = replacement.contentType
                metadata.systemMetadata = replacement.systemMetadata
                metadata.userMetadata = replacement.userMetadata
            }
            if taggingDirective == "REPLACE" { metadata.tags = replacement.tags }
            metadata.systemMetadata = withLockRequest(metadata.systemMetadata, from: replacement)
            let session = try engine.startIngest(bucket: bucket, key: key, record: bucketRecord)
            // A copy of an SSE-C source without a destination key is not encrypted with the
            // source's key (the server does not keep it): plaintext or the bucket's default.
            let sourceEncryption = CustomerKeyEncryption.isCustomerKey(original.encryption) ? nil : original.encryption
            if let customerKey {
                let (encryption, domain) = CustomerKeyEncryption.newObject(customerKey: customerKey.key)
                session.encrypt(with: encryption, in: domain)
            } else if let encryption = requestedEncryption ?? sourceEncryption {
                try await session.encrypt(with: encryption)
            }
            try await copyBytes(evicted, range: 0..<original.size, into: session)
            let record = try await session.commit(metadata: metadata, precondition: precondition, origin: .s3("Copy"))
            var response = copyObjectResult(record, sourceVersion: evicted.record.versionId)
            customerKey?.addHeaders(&response.headers)
            return response
        }
        let sourceVersionId = LockedBox<String?>(nil)
        let record = try await engine.copyObject(
            from: (source.bucket, source.key), to: (bucket, key), sourceVersion: source.version, precondition: precondition
        ) { original in
            sourceVersionId.value = original.versionId
            try self.checkCopySourceConditions(request, original)
            try self.requireAllowedSize(original.size, wholeObject: true)
            var record = original
            record.owner = owner
            if directive == "REPLACE" {
                record.contentType = replacement.contentType
                record.systemMetadata = replacement.systemMetadata
                record.userMetadata = replacement.userMetadata
            }
            if taggingDirective == "REPLACE" { record.tags = replacement.tags }
            record.systemMetadata = withLockRequest(record.systemMetadata, from: replacement)
            record.systemMetadata = ObjectRecord.replacingEncryption(
                record.systemMetadata, with: requestedEncryption ?? original.encryption)
            return record
        }
        return copyObjectResult(record, sourceVersion: sourceVersionId.value)
    }

    private func copyObjectResult(_ record: ObjectRecord, sourceVersion: String?) -> Response {
        var xml = XMLWriter()
        xml.group("CopyObjectResult", namespace: true) { x in
            x.element("LastModified", iso8601(milliseconds: record.created))
            x.element("ETag", "\"\(record.etag)\"")
            for (algorithm, value) in record.checksums { x.element("Checksum" + algorithm, value) }
        }
        var response = xmlResponse(xml)
        addVersionHeaders(record, &response.headers)
        if let sourceVersion { response.headers[.init("x-amz-copy-source-version-id")!] = sourceVersion }
        return response
    }
}

/// A copy's lock, ACL and storage class come from its own headers whatever the metadata directive (never the source's).
private func withLockRequest(_ system: [(String, String)], from request: ObjectMetadata) -> [(String, String)] {
    func isOwn(_ name: String) -> Bool {
        ObjectLockRequest.isRequest(name) || name == ObjectRecord.cannedACLKey || name == StorageClasses.requestedKey
    }
    return system.filter { !isOwn($0.0) } + request.systemMetadata.filter { isOwn($0.0) }
}
