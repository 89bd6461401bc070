import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore

extension S3Service {
    /// Reads a `<Tagging><TagSet><Tag><Key/><Value/></Tag>…` body with S3's limits.
    func parseTagging(_ c: S3Context, _ body: RequestBody, maxTags: Int) async throws -> [(String, String)] {
        try Self.parseTagging(try await readSmallBody(c, body, limit: 64 << 10), maxTags: maxTags)
    }

    /// The body alone (also the fuzz target's door): the tags in order, or S3's error naming the problem.
    static func parseTagging(_ bytes: [UInt8], maxTags: Int) throws -> [(String, String)] {
        let xml = try XMLElement.parse(bytes)
        guard xml.name == "Tagging", let set = xml.child("TagSet") else { throw S3Error.malformedXML() }
        var tags: [(String, String)] = []
        for tag in set.children("Tag") {
            guard let key = tag.child("Key")?.text else { throw S3Error.malformedXML() }
            let value = tag.child("Value")?.text ?? ""
            guard (1...128).contains(key.count), value.count <= 256 else {
                throw S3Error("InvalidTag", .badRequest, "The TagKey or TagValue is too long.")
            }
            guard !tags.contains(where: { $0.0 == key }) else {
                throw S3Error("InvalidTag", .badRequest, "Cannot provide multiple Tags with the same key")
            }
            tags.append((key, value))
        }
        guard tags.count <= maxTags else {
            throw S3Error("BadRequest", .badRequest, "Object tags cannot be greater than \(maxTags)")
        }
        return tags
    }

    func taggingResponse(_ tags: [(String, String)]) -> Response {
        xmlResponse(Self.taggingDocument(tags))
    }

    /// The GetObjectTagging / GetBucketTagging document.
    static func taggingDocument(_ tags: [(String, String)]) -> XMLWriter {
        var xml = XMLWriter()
        xml.group("Tagging", namespace: true) { x in
            x.group("TagSet") { s in
                for (key, value) in tags {
                    s.group("Tag") { t in
                        t.element("Key", key)
                        t.element("Value", value)
                    }
                }
            }
        }
        return xml
    }

    func objectTagging(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        switch c.request.method {
        case .get:
            try authorize(c, .read, bucket: bucket, key: key)
            try requireBucket(bucket)
            let record = try readableVersion(c, bucket: bucket, key: key)
            var response = taggingResponse(record.tags)
            if let id = record.versionId { response.headers[.init("x-amz-version-id")!] = id }
            return response
        case .put:
            try authorize(c, .write, bucket: bucket, key: key)
            try requireBucket(bucket)
            let version = try requestedVersion(c)
            let tags = try await parseTagging(c, body, maxTags: 10)
            let record = try await engine.updateObject(bucket: bucket, key: key, version: version) { $0.tags = tags }
            var headers = HTTPFields()
            if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
            return emptyResponse(.ok, headers: headers)
        case .delete:
            try authorize(c, .write, bucket: bucket, key: key)
            try requireBucket(bucket)
            let version = try requestedVersion(c)
            let record = try await engine.updateObject(bucket: bucket, key: key, version: version) { $0.tags = [] }
            var headers = HTTPFields()
            if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
            return emptyResponse(.noContent, headers: headers)
        default:
            throw S3Error.methodNotAllowed()
        }
    }

    func bucketTagging(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        switch c.request.method {
        case .get:
            try authorize(c, .list, bucket: bucket)
            guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
            guard !record.tags.isEmpty else {
                throw S3Error("NoSuchTagSet", .notFound, "The TagSet does not exist", details: [("BucketName", bucket)])
            }
            return taggingResponse(record.tags)
        case .put:
            try authorize(c, .write, bucket: bucket)
            try requireBucket(bucket)
            let tags = try await parseTagging(c, body, maxTags: 50)
            try await engine.updateBucket(bucket) { record, _ in
                record.tags = tags
                return true
            }
            return emptyResponse(.noContent)
        case .delete:
            try authorize(c, .write, bucket: bucket)
            try requireBucket(bucket)
            try await engine.updateBucket(bucket) { record, _ in
                record.tags = []
                return true
            }
            return emptyResponse(.noContent)
        default:
            throw S3Error.methodNotAllowed()
        }
    }
}
