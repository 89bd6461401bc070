import DepotConfig
import DepotEngine
import DepotHashing
import DepotStorage
import HTTPTypes
import HummingbirdCore
import NIOCore

extension S3Service {
    func listBuckets(_ c: S3Context) throws -> Response {
        let maxBuckets = try IntegerParameter.maxBuckets.parse(c.request.query["max-buckets"], default: 10000)
        let after = c.request.query["continuation-token"] ?? ""
        let visible = try engine.listBuckets(after: after).filter { item in
            Action.allCases.contains { c.account.allows($0, bucket: item.name) }
        }
        let page = visible.prefix(maxBuckets)
        var xml = XMLWriter()
        xml.group("ListAllMyBucketsResult", namespace: true) { x in
            x.group("Owner") { o in
                o.element("ID", c.account.accessKey)
                o.element("DisplayName", c.account.name)
            }
            x.group("Buckets") { b in
                for item in page {
                    b.group("Bucket") { e in
                        e.element("Name", item.name)
                        e.element("CreationDate", iso8601(milliseconds: item.record.created))
                        e.element("BucketRegion", item.record.region)
                    }
                }
            }
            if visible.count > maxBuckets, let last = page.last {
                x.element("ContinuationToken", last.name)
            }
        }
        return xmlResponse(xml)
    }

    func putBucket(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try authorize(c, .write, bucket: bucket)
        // Object Ownership and ACL asked for, refused before anything is made (ACLHandlers.swift).
        let aclSettings = try bucketCreationSettings(c, bucket: bucket)
        let bytes = try await readSmallBody(c, body, limit: 64 << 10)
        if !bytes.isEmpty {
            let text = String(decoding: bytes, as: UTF8.self)
            guard text.contains("CreateBucketConfiguration") else { throw S3Error.malformedXML() }
            // Another region than the server's: MinIO's answer (AWS would redirect or refuse the constraint).
            if let constraint = extractElement(text, "LocationConstraint"), !constraint.isEmpty,
                constraint != settings.region
            {
                throw S3Error(
                    "InvalidRegion", .badRequest,
                    "Region does not match: this server is in \(settings.region), not \(constraint).",
                    details: [("Region", settings.region)])
            }
        }
        var recreated = false
        do {
            // Object Lock from the start (it also turns versioning on for good).
            let objectLock = c.request.header("x-amz-bucket-object-lock-enabled")?.lowercased() == "true"
            try await engine.createBucket(
                bucket, owner: c.account.accessKey, region: settings.region, objectLock: objectLock)
        } catch EngineError.bucketAlreadyOwnedByYou(_) where settings.region == "us-east-1" {
            // Re-creating your own bucket in us-east-1 succeeds, as AWS (legacy us-east-1) and MinIO answer;
            // other regions keep BucketAlreadyOwnedByYou, as AWS does there. Its ACL is reset, as in AWS.
            recreated = true
        }
        if recreated || aclSettings.ownership != nil || aclSettings.acl != nil {
            try await applyBucketCreationSettings(aclSettings, bucket: bucket)
        }
        var headers = HTTPFields()
        headers[.location] = "/" + bucket
        return emptyResponse(.ok, headers: headers)
    }

    func headBucket(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        try requireAccess(
            c, action: c.policyAction, bucket: bucket, key: nil,
            allowListAllows: Action.allCases.contains(where: { c.account.allows($0, bucket: bucket) }))
        var headers = HTTPFields()
        headers[.init("x-amz-bucket-region")!] = record.region
        return emptyResponse(.ok, headers: headers)
    }

    func deleteBucket(_ c: S3Context, bucket: String) async throws -> Response {
        try authorize(c, .delete, bucket: bucket)
        let hadLifecycle = lifecycleConfiguration(bucket: bucket) != nil || hasReplicationConfiguration(bucket: bucket)
        let hadNotifications = (try? engine.bucket(bucket))??.document(NotificationConfiguration.documentName) != nil
        try await engine.deleteBucket(bucket)
        // Its lifecycle and replication rules (policies in effect) and notification rules (event
        // routes) go with it, so a new bucket of the same name does not inherit them.
        if hadLifecycle { try await settings.lifecycleChanged() }
        if hadNotifications { try await settings.notificationChanged() }
        return emptyResponse(.noContent)
    }

    /// GetBucketLocation: any grant on the bucket may ask where it is (minio-go asks first).
    func getBucketLocation(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        try requireAccess(
            c, action: c.policyAction, bucket: bucket, key: nil,
            allowListAllows: Action.allCases.contains(where: { c.account.allows($0, bucket: bucket) }))
        // us-east-1 is reported as an empty constraint, as S3 does.
        let region = record.region == "us-east-1" ? "" : XMLWriter.escape(record.region)
        let body =
            XMLWriter().text
            + "<LocationConstraint xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\(region)</LocationConstraint>"
        var headers = HTTPFields()
        headers[.contentType] = "application/xml"
        headers[.contentLength] = String(body.utf8.count)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body)))
    }

    /// Reads a small request body (XML configuration) with a size limit.
    func readSmallBody(_ c: S3Context, _ body: RequestBody, limit: Int) async throws -> [UInt8] {
        var bytes: [UInt8] = []
        for try await buffer in body {
            guard bytes.count + buffer.readableBytes <= limit else {
                throw S3Error("MaxMessageLengthExceeded", .badRequest, "Your request was too big.")
            }
            bytes += buffer.readableBytesView
        }
        if let declared = c.request.headers[.contentLength].flatMap(Int.init), declared != bytes.count {
            throw S3Error.incompleteBody()
        }
        // The signature covers the body only through these: a body that does not match them was
        // changed on the way (or by a bug) and is never acted on. Checked here, once, for every
        // small body (tagging, versioning, policies, ACLs, CORS, lifecycle, DeleteObjects, ...).
        if let md5 = try contentMD5Header(c.request), md5 != DigestAlgorithm.md5.hash(bytes) { throw S3Error.badDigest() }
        if case .sha256(let expected) = c.auth.payload, expected != DigestAlgorithm.sha256.hash(bytes) {
            throw S3Error.contentSHA256Mismatch()
        }
        return bytes
    }
}

/// The text of the first `<name>…</name>` element, for the few tiny XML bodies S3 accepts.
func extractElement(_ xml: String, _ name: String) -> String? {
    guard let open = xml.range(of: "<\(name)>"), let close = xml.range(of: "</\(name)>", range: open.upperBound..<xml.endIndex)
    else { return nil }
    return String(xml[open.upperBound..<close.lowerBound]).trimmedSpaces()
}
