import DepotEngine
import DepotStorage
import HTTPTypes
import HummingbirdCore

/// S3 Object Lock on the S3 door: the bucket's configuration (Get/PutObjectLockConfiguration).
/// What a lock is and forbids: DepotEngine/Operations/ObjectLock.swift.
extension S3Service {
    func getObjectLockConfiguration(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard let lock = record.objectLock else { throw BucketConfiguration.objectLock.notConfigured(bucket: bucket)! }
        return xmlResponse(Self.objectLockDocument(lock))
    }

    /// The GetObjectLockConfiguration document of a bucket's lock settings.
    static func objectLockDocument(_ lock: BucketObjectLock) -> XMLWriter {
        var xml = XMLWriter()
        xml.group("ObjectLockConfiguration", namespace: true) { x in
            x.element("ObjectLockEnabled", "Enabled")
            if let mode = ObjectLockMode(rawValue: lock.defaultMode) {
                x.group("Rule") { r in
                    r.group("DefaultRetention") { d in
                        d.element("Mode", mode.name)
                        if lock.defaultDays != 0 { d.element("Days", Int(lock.defaultDays)) }
                        if lock.defaultYears != 0 { d.element("Years", Int(lock.defaultYears)) }
                    }
                }
            }
        }
        return xml
    }

    func putObjectLockConfiguration(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let lock = try Self.parseObjectLockConfiguration(try await readSmallBody(c, body, limit: 64 << 10))
        try await engine.setObjectLockConfiguration(bucket: bucket, lock)
        return emptyResponse(.ok)
    }

    /// `<ObjectLockConfiguration><ObjectLockEnabled>Enabled</ObjectLockEnabled><Rule><DefaultRetention>
    /// <Mode>GOVERNANCE|COMPLIANCE</Mode><Days>n</Days> or <Years>n</Years></DefaultRetention></Rule>`.
    /// A wrong shape is MalformedXML and a wrong period InvalidArgument, as AWS answers.
    static func parseObjectLockConfiguration(_ bytes: [UInt8]) throws -> BucketObjectLock {
        let xml = try XMLElement.parse(bytes)
        guard xml.name == "ObjectLockConfiguration", xml.child("ObjectLockEnabled")?.text == "Enabled" else {
            throw S3Error.malformedXML()
        }
        guard let rule = xml.child("Rule") else { return BucketObjectLock() }
        guard let retention = rule.child("DefaultRetention"), let modeText = retention.child("Mode")?.text,
            let mode = ObjectLockMode(name: modeText)
        else { throw S3Error.malformedXML() }
        let days = retention.child("Days")?.text
        let years = retention.child("Years")?.text
        guard (days == nil) != (years == nil), let text = days ?? years else { throw S3Error.malformedXML() }
        guard let value = Int(text) else { throw S3Error.malformedXML() }
        guard value > 0 else { throw S3Error.invalidArgument("Default retention period must be a positive integer value.") }
        // AWS's ceiling: 100 years.
        guard days != nil ? value <= 36_500 : value <= 100 else {
            throw S3Error.invalidArgument("Default retention period is too large.")
        }
        return days != nil
            ? BucketObjectLock(defaultMode: mode.rawValue, defaultDays: Int32(value))
            : BucketObjectLock(defaultMode: mode.rawValue, defaultYears: Int32(value))
    }
}

/// The per-object side: lock headers on PUT, copy and CreateMultipartUpload, the lock headers
/// of GET and HEAD, Get/PutObjectRetention and Get/PutObjectLegalHold.
extension S3Service {
    static let lockModeHeader = "x-amz-object-lock-mode"
    static let lockUntilHeader = "x-amz-object-lock-retain-until-date"
    static let legalHoldHeader = "x-amz-object-lock-legal-hold"

    /// The lock a write's headers ask for, as the system-metadata pairs the commit takes out
    /// (ObjectLockRequest); empty when none. Mode and date come together or not at all.
    static func objectLockRequest(_ r: S3Request, now: Int64) throws -> [(String, String)] {
        let modeText = r.header(lockModeHeader)
        let untilText = r.header(lockUntilHeader)
        let holdText = r.header(legalHoldHeader)
        guard modeText != nil || untilText != nil || holdText != nil else { return [] }
        guard (modeText == nil) == (untilText == nil) else {
            throw S3Error.invalidArgument(
                "x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied")
        }
        var mode: ObjectLockMode?
        var until: Int64?
        if let modeText, let untilText {
            guard let parsed = ObjectLockMode(name: modeText) else {
                throw S3Error.invalidArgument("Unknown wormMode directive.")
            }
            guard let seconds = parseISO8601(untilText) else {
                throw S3Error.invalidArgument("The retain until date must be provided in ISO 8601 format")
            }
            guard seconds * 1000 > now else { throw S3Error.invalidArgument("The retain until date must be in the future!") }
            (mode, until) = (parsed, seconds * 1000)
        }
        var hold: Bool?
        if let holdText {
            guard holdText == "ON" || holdText == "OFF" else {
                throw S3Error.invalidArgument("Legal Hold must be either of 'ON' or 'OFF'")
            }
            hold = holdText == "ON"
        }
        return ObjectLockRequest.pairs(mode: mode, retainUntil: until, legalHold: hold)
    }

    /// A lock asked for in a bucket without Object Lock: 400 InvalidRequest, before any byte.
    func requireObjectLockBucket(_ c: S3Context, bucket: String) throws {
        let r = c.request
        guard
            r.header(Self.lockModeHeader) != nil || r.header(Self.lockUntilHeader) != nil
                || r.header(Self.legalHoldHeader) != nil
        else { return }
        let record = try requireBucket(c, bucket)
        guard record.objectLock != nil else { throw S3Error.invalidRequest("Bucket is missing Object Lock Configuration") }
    }

    /// Whether this request may lift a GOVERNANCE retention: it asks with
    /// `x-amz-bypass-governance-retention: true` and the account holds the `admin` action here
    /// (Depot's s3:BypassGovernanceRetention).
    func bypassesGovernance(_ c: S3Context, bucket: String, key: String) -> Bool {
        c.request.header("x-amz-bypass-governance-retention")?.lowercased() == "true"
            && Self.mayBypassGovernance(c.account, bucket: bucket, key: key)
    }

    /// GET and HEAD's lock headers.
    func addObjectLockHeaders(_ record: ObjectRecord, _ headers: inout HTTPFields) {
        if let mode = ObjectLockMode(rawValue: record.lock.mode) {
            headers[.init(Self.lockModeHeader)!] = mode.name
            headers[.init(Self.lockUntilHeader)!] = iso8601(milliseconds: record.lock.retainUntil)
        }
        if record.lock.legalHold { headers[.init(Self.legalHoldHeader)!] = "ON" }
    }

    private func requireLockedBucket(_ bucket: String) throws {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard record.objectLock != nil else { throw S3Error.invalidRequest("Bucket is missing Object Lock Configuration") }
    }

    private static func noLockConfiguration() -> S3Error {
        S3Error(
            "NoSuchObjectLockConfiguration", .notFound, "The specified object does not have a ObjectLock configuration")
    }

    func getObjectRetention(_ c: S3Context, bucket: String, key: String) throws -> Response {
        try requireLockedBucket(bucket)
        let record = try readableVersion(c, bucket: bucket, key: key)
        guard let mode = ObjectLockMode(rawValue: record.lock.mode) else { throw Self.noLockConfiguration() }
        var xml = XMLWriter()
        xml.group("Retention", namespace: true) { x in
            x.element("Mode", mode.name)
            x.element("RetainUntilDate", iso8601(milliseconds: record.lock.retainUntil))
        }
        return xmlResponse(xml)
    }

    func getObjectLegalHold(_ c: S3Context, bucket: String, key: String) throws -> Response {
        try requireLockedBucket(bucket)
        let record = try readableVersion(c, bucket: bucket, key: key)
        var xml = XMLWriter()
        xml.group("LegalHold", namespace: true) { x in x.element("Status", record.lock.legalHold ? "ON" : "OFF") }
        return xmlResponse(xml)
    }

    /// `<Retention><Mode>…</Mode><RetainUntilDate>…</RetainUntilDate></Retention>`; an empty
    /// `<Retention/>` removes it (GOVERNANCE with the bypass only).
    func putObjectRetention(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        try requireLockedBucket(bucket)
        let xml = try XMLElement.parse(try await readSmallBody(c, body, limit: 64 << 10))
        guard xml.name == "Retention" else { throw S3Error.malformedXML() }
        let modeText = xml.child("Mode")?.text
        let untilText = xml.child("RetainUntilDate")?.text
        guard (modeText == nil) == (untilText == nil) else { throw S3Error.malformedXML() }
        let now = try engine.lockNow()
        var mode: ObjectLockMode?
        var until: Int64?
        if let modeText, let untilText {
            guard let parsed = ObjectLockMode(name: modeText) else { throw S3Error.malformedXML() }
            guard let seconds = parseISO8601(untilText) else { throw S3Error.malformedXML() }
            guard seconds * 1000 > now else { throw S3Error.invalidArgument("The retain until date must be in the future!") }
            (mode, until) = (parsed, seconds * 1000)
        }
        let bypass = bypassesGovernance(c, bucket: bucket, key: key)
        let (newMode, newUntil) = (mode, until)
        let record = try await engine.updateObject(bucket: bucket, key: key, version: try requestedVersion(c)) { record in
            record.lock = try record.lock.changingRetention(to: newMode, until: newUntil, bypassGovernance: bypass, now: now)
        }
        var headers = HTTPFields()
        if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
        return emptyResponse(.ok, headers: headers)
    }

    /// `<LegalHold><Status>ON|OFF</Status></LegalHold>`: anyone who may write may set or lift it.
    func putObjectLegalHold(_ c: S3Context, bucket: String, key: String, body: RequestBody) async throws -> Response {
        try requireLockedBucket(bucket)
        let xml = try XMLElement.parse(try await readSmallBody(c, body, limit: 64 << 10))
        guard xml.name == "LegalHold", let status = xml.child("Status")?.text, status == "ON" || status == "OFF" else {
            throw S3Error.malformedXML()
        }
        let record = try await engine.updateObject(bucket: bucket, key: key, version: try requestedVersion(c)) { record in
            record.lock.legalHold = status == "ON"
        }
        var headers = HTTPFields()
        if let id = record.versionId { headers[.init("x-amz-version-id")!] = id }
        return emptyResponse(.ok, headers: headers)
    }
}
