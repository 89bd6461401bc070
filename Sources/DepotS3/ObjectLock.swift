import DepotEngine
import HTTPTypes
import HummingbirdCore

/// S3 Object Lock on the S3 door: the bucket's configuration (Get/PutObjectLockConfiguration).
/// What a lock is and forbids: DepotEngine/Operations/ObjectLock.swift.
extension S3Service {
    func getObjectLockConfiguration(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard let lock = record.objectLock else { throw BucketConfiguration.objectLock.notConfigured(bucket: bucket)! }
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
        return xmlResponse(xml)
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
