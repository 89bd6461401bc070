import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore

extension S3Service {
    func deleteObject(_ c: S3Context, bucket: String, key: String) async throws -> Response {
        // Authorized by the dispatcher (the endpoint's `.delete`); the bucket record is the one it read.
        _ = try requireBucket(c, bucket)
        let precondition = try deletePreconditions(c.request)
        let origin = ChangeOrigin.s3("Delete", principal: c.account.accessKey)
        let outcome: Engine.DeleteOutcome
        if let version = try requestedVersion(c) {
            outcome = try await engine.deleteObjectVersion(
                bucket: bucket, key: key, version, origin: origin,
                bypassGovernance: bypassesGovernance(c, bucket: bucket, key: key))
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

    /// A DeleteObjects body (also the fuzz target's door): Quiet, and the keys (with their
    /// version ids) in order, at most 1000.
    static func parseDeleteObjects(_ bytes: [UInt8]) throws -> (quiet: Bool, entries: [(key: String, versionId: String?)]) {
        let xml = try XMLElement.parse(bytes)
        guard xml.name == "Delete" else { throw S3Error.malformedXML() }
        let quiet = xml.child("Quiet")?.text.lowercased() == "true"
        let entries = try xml.children("Object").map { object -> (key: String, versionId: String?) in
            guard let key = object.child("Key")?.text else { throw S3Error.malformedXML() }
            return (key, object.child("VersionId")?.text)
        }
        guard entries.count <= 1000 else { throw S3Error.malformedXML() }
        return (quiet, entries)
    }

    /// DeleteObjects: up to 1000 keys in one request, each reported, or only errors when Quiet.
    func deleteObjects(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        _ = try requireBucket(c, bucket)
        let (quiet, entries) = try Self.parseDeleteObjects(try await readSmallBody(c, body, limit: 2 << 20))
        var out = XMLWriter()
        var results: [(key: String, versionId: String?, outcome: Result<Engine.DeleteOutcome, S3Error>)] = []
        let origin = ChangeOrigin.s3("Delete", principal: c.account.accessKey)
        for (key, versionId) in entries {
            do {
                try authorize(
                    c, .delete, bucket: bucket, key: key,
                    policyAction: versionId == nil ? "s3:DeleteObject" : "s3:DeleteObjectVersion")
                let outcome: Engine.DeleteOutcome
                if let versionId {
                    guard let selector = VersionSelector(versionId) else {
                        throw S3Error.invalidArgument("Invalid version id specified")
                    }
                    outcome = try await engine.deleteObjectVersion(
                        bucket: bucket, key: key, selector, origin: origin,
                        bypassGovernance: bypassesGovernance(c, bucket: bucket, key: key))
                } else {
                    outcome = try await engine.deleteLatest(bucket: bucket, key: key, origin: origin)
                }
                results.append((key, versionId, .success(outcome)))
            } catch {
                results.append((key, versionId, .failure(S3Error.from(error))))
            }
        }
        out.group("DeleteResult", namespace: true) { x in
            for (key, versionId, outcome) in results {
                switch outcome {
                case .failure(let error):
                    x.group("Error") { e in
                        e.element("Key", key)
                        if let versionId { e.element("VersionId", versionId) }
                        e.element("Code", error.code)
                        e.element("Message", error.message)
                    }
                case .success(let done) where !quiet:
                    x.group("Deleted") { e in
                        e.element("Key", key)
                        if let versionId { e.element("VersionId", versionId) }
                        if done.deleteMarker {
                            e.element("DeleteMarker", true)
                            if let id = done.versionId { e.element("DeleteMarkerVersionId", id) }
                        }
                    }
                case .success: break
                }
            }
        }
        return xmlResponse(out)
    }
}
