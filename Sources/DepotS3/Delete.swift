import DepotConfig
import DepotEngine
import DepotHashing
import HTTPTypes
import HummingbirdCore

extension S3Service {
    func deleteObject(_ c: S3Context, bucket: String, key: String) async throws -> Response {
        try authorize(c, .delete, bucket: bucket, key: key)
        try requireBucket(bucket)
        let precondition = try deletePreconditions(c.request)
        let origin = ChangeOrigin.s3("Delete", principal: c.account.accessKey)
        let outcome: Engine.DeleteOutcome
        if let version = try requestedVersion(c) {
            outcome = try await engine.deleteObjectVersion(bucket: bucket, key: key, version, origin: origin)
        } else {
            outcome = try await engine.deleteLatest(bucket: bucket, key: key, precondition: precondition, origin: origin)
        }
        var headers = HTTPFields()
        // An unversioned bucket's delete names no version.
        if let id = outcome.versionId, outcome.deleteMarker || c.request.query["versionId"] != nil {
            headers[.init("x-amz-version-id")!] = id
        }
        if outcome.deleteMarker { headers[.init("x-amz-delete-marker")!] = "true" }
        return emptyResponse(.noContent, headers: headers)
    }

    /// `If-Match` on DeleteObject (S3 conditional deletes).
    func deletePreconditions(_ r: S3Request) throws -> CommitPrecondition? {
        guard let ifMatch = r.headers[.ifMatch].map(unquoteETag) else { return nil }
        return { current in
            guard let current else { throw EngineError.noSuchKey("") }
            if ifMatch != "*" && ifMatch != current.etag { throw EngineError.preconditionFailed }
        }
    }

    /// DeleteObjects: up to 1000 keys in one request, each reported, or only errors when Quiet.
    func deleteObjects(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: 2 << 20)
        if let md5 = try contentMD5Header(c.request), md5 != DigestAlgorithm.md5.hash(bytes) { throw S3Error.badDigest() }
        let xml = try XMLElement.parse(bytes)
        guard xml.name == "Delete" else { throw S3Error.malformedXML() }
        let quiet = xml.child("Quiet")?.text.lowercased() == "true"
        let keys = try xml.children("Object").map { object -> String in
            guard let key = object.child("Key")?.text else { throw S3Error.malformedXML() }
            return key
        }
        guard keys.count <= 1000 else { throw S3Error.malformedXML() }
        var out = XMLWriter()
        var results: [(String, S3Error?)] = []
        for key in keys {
            do {
                try authorize(c, .delete, bucket: bucket, key: key)
                try await engine.deleteObject(
                    bucket: bucket, key: key, origin: .s3("Delete", principal: c.account.accessKey))
                results.append((key, nil))
            } catch {
                results.append((key, S3Error.from(error)))
            }
        }
        out.group("DeleteResult", namespace: true) { x in
            for (key, error) in results {
                if let error {
                    x.group("Error") { e in
                        e.element("Key", key)
                        e.element("Code", error.code)
                        e.element("Message", error.message)
                    }
                } else if !quiet {
                    x.group("Deleted") { e in e.element("Key", key) }
                }
            }
        }
        return xmlResponse(out)
    }
}
