import DepotConfig
import DepotEngine
import DepotSigV4
import DepotStorage
import HTTPTypes
import HummingbirdCore
import Synchronization

/// Bucket versioning on the S3 door: PutBucketVersioning, GetBucketVersioning, the `versionId`
/// parameter, the version headers, and ListObjectVersions of a versioned bucket. What versions
/// are and where they live: DepotEngine/Operations/Versioning.swift.
extension S3Service {
    /// The request's `versionId`: nil when absent; 400 InvalidArgument when it is no version id.
    func requestedVersion(_ c: S3Context) throws -> VersionSelector? {
        guard let text = c.request.query["versionId"] else { return nil }
        guard let selector = VersionSelector(text) else {
            throw S3Error(
                "InvalidArgument", .badRequest, "Invalid version id specified",
                details: [("ArgumentName", "versionId"), ("ArgumentValue", text)])
        }
        return selector
    }

    /// Adds `x-amz-version-id` when the record belongs to a versioned bucket (or is a null
    /// version made in a Suspended one).
    func addVersionHeaders(_ record: ObjectRecord, _ headers: inout HTTPFields) {
        if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
        if record.isDeleteMarker { headers[.init("x-amz-delete-marker")!] = "true" }
        ServerSideEncryption.addHeaders(record, &headers)
    }

    /// The 404 or 405 a read of a missing or deleted object answers, with the delete-marker
    /// headers when a marker is why.
    func missingObjectError(bucket: String, key: String, version: VersionSelector?, versionText: String?) throws -> S3Error {
        if let version, let text = versionText {
            _ = version
            return S3Error.from(EngineError.noSuchVersion(key: key, versionId: text))
        }
        var error = S3Error.noSuchKey(key)
        if let marker = try engine.latestDeleteMarker(bucket: bucket, key: key) {
            error.headers = [("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.versionId ?? "null")]
        }
        return error
    }

    /// The record a metadata read (tagging, attributes) names: the current object, or the
    /// version `versionId` names; 404 or 405 as a GET would answer.
    func readableVersion(_ c: S3Context, bucket: String, key: String) throws -> ObjectRecord {
        let version = try requestedVersion(c)
        let found =
            if let version { try engine.objectVersion(bucket: bucket, key: key, version) } else {
                try engine.headObject(bucket: bucket, key: key)
            }
        guard let record = found else {
            throw try missingObjectError(bucket: bucket, key: key, version: version, versionText: c.request.query["versionId"])
        }
        if record.isDeleteMarker { throw deleteMarkerReadError(record) }
        return record
    }

    /// A GET or HEAD naming a delete marker: 405, as S3 answers.
    func deleteMarkerReadError(_ marker: ObjectRecord) -> S3Error {
        var error = S3Error(
            "MethodNotAllowed", .methodNotAllowed, "The specified method is not allowed against this resource.",
            details: [("Method", "GET"), ("ResourceType", "DeleteMarker")])
        error.headers = [
            ("x-amz-delete-marker", "true"), ("x-amz-version-id", marker.versionId ?? "null"),
            ("Last-Modified", httpDate(seconds: marker.created / 1000)),
        ]
        return error
    }

    func getBucketVersioning(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        var xml = XMLWriter()
        xml.group("VersioningConfiguration", namespace: true) { x in
            switch record.versioning {
            case .unversioned: break
            case .enabled: x.element("Status", "Enabled")
            case .suspended: x.element("Status", "Suspended")
            }
        }
        return xmlResponse(xml)
    }

    /// `<VersioningConfiguration><Status>Enabled|Suspended</Status></VersioningConfiguration>`.
    /// MFA delete is not offered (501); anything else is MalformedXML.
    func putBucketVersioning(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let status = try Self.parseVersioningConfiguration(
            try await readSmallBody(c, body, limit: 64 << 10), mfaHeader: c.request.header("x-amz-mfa") != nil)
        switch status {
        // Only MfaDelete=Disabled: nothing changes.
        case nil: break
        case .enabled?: try await engine.setVersioning(bucket: bucket, .enabled)
        case .suspended?:
            try refuseSuspendingReplicatedBucket(bucket)
            try await engine.setVersioning(bucket: bucket, .suspended)
        }
        return emptyResponse(.ok)
    }

    /// What a PutBucketVersioning body asks for (also the fuzz target's door): the status, or nil
    /// when it only says MfaDelete=Disabled. MFA delete itself is 501 (also when `mfaHeader`).
    static func parseVersioningConfiguration(_ bytes: [UInt8], mfaHeader: Bool) throws -> RequestedVersioning? {
        let xml = try XMLElement.parse(bytes)
        guard xml.name == "VersioningConfiguration" else { throw S3Error.malformedXML() }
        if let mfa = xml.child("MfaDelete")?.text {
            guard mfa == "Enabled" || mfa == "Disabled" else { throw S3Error.malformedXML() }
            if mfa == "Enabled" || mfaHeader {
                throw S3Error.notImplemented("MFA delete (PutBucketVersioning with MfaDelete)")
            }
        }
        guard let status = xml.child("Status")?.text else {
            if xml.child("MfaDelete") != nil { return nil }
            throw S3Error.malformedXML()
        }
        guard let requested = RequestedVersioning(rawValue: status) else { throw S3Error.malformedXML() }
        return requested
    }

    /// The two states a client can put a bucket's versioning in.
    enum RequestedVersioning: String, Sendable {
        case enabled = "Enabled"
        case suspended = "Suspended"
    }

    /// ListObjectVersions of a versioned bucket (an unversioned one is listed by List.swift).
    func listVersionedObjects(_ c: S3Context, bucket: String, prefix: String, delimiter: String, maxKeys: Int, encodeURL: Bool)
        throws -> Response
    {
        let q = c.request.query
        let keyMarker = q["key-marker"] ?? ""
        let versionIdMarkerText = q["version-id-marker"]
        var versionIdMarker: VersionSelector?
        if let text = versionIdMarkerText, !text.isEmpty {
            guard !keyMarker.isEmpty else {
                throw S3Error.invalidArgument("A version-id marker cannot be specified without a key marker.")
            }
            guard let selector = VersionSelector(text) else { throw S3Error.invalidArgument("Invalid version id specified") }
            versionIdMarker = selector
        }
        let listing = try engine.listVersions(
            bucket: bucket, prefix: prefix, delimiter: delimiter, keyMarker: keyMarker, versionIdMarker: versionIdMarker,
            maxKeys: maxKeys)
        func enc(_ s: String) -> String { encodeURL ? SigV4Encoding.encode(s, keepSlash: true) : s }
        var xml = XMLWriter()
        xml.group("ListVersionsResult", namespace: true) { x in
            x.element("Name", bucket)
            x.element("Prefix", enc(prefix))
            x.element("KeyMarker", enc(keyMarker))
            x.element("VersionIdMarker", versionIdMarkerText ?? "")
            if !delimiter.isEmpty { x.element("Delimiter", enc(delimiter)) }
            x.element("MaxKeys", maxKeys)
            if encodeURL { x.element("EncodingType", "url") }
            x.element("IsTruncated", listing.isTruncated)
            if listing.isTruncated {
                if let next = listing.nextKeyMarker { x.element("NextKeyMarker", enc(next)) }
                if let next = listing.nextVersionIdMarker { x.element("NextVersionIdMarker", next) }
            }
            let classes = settings.configurationView().storageClasses
            for entry in listing.versions {
                let record = entry.record
                x.group(record.isDeleteMarker ? "DeleteMarker" : "Version") { e in
                    e.element("Key", enc(entry.key))
                    e.element("VersionId", record.versionId ?? "null")
                    e.element("IsLatest", entry.isLatest)
                    e.element("LastModified", iso8601(milliseconds: record.created))
                    if !record.isDeleteMarker {
                        e.element("ETag", "\"\(record.etag)\"")
                        e.element("Size", record.size)
                        e.element("StorageClass", classes.listedClass(of: record))
                    }
                    e.group("Owner") { o in
                        o.element("ID", record.owner)
                        o.element("DisplayName", record.owner)
                    }
                }
            }
            for common in listing.commonPrefixes {
                x.group("CommonPrefixes") { e in e.element("Prefix", enc(common)) }
            }
        }
        return xmlResponse(xml)
    }
}

/// A value a commit closure hands back to its request (the copy source's version id).
final class LockedBox<Value: Sendable>: Sendable {
    private let storage: Mutex<Value>
    init(_ value: Value) { storage = Mutex(value) }
    var value: Value {
        get { storage.withLock { $0 } }
        set { storage.withLock { $0 = newValue } }
    }
}
