import DepotConfig
import DepotEngine
import Testing

@testable import DepotS3

/// NoncurrentVersionExpiration and ExpiredObjectDeleteMarker: written back as given, mapped to
/// the policy's version fields, and which versions of a key they make due (PolicyVersionExpiry).
struct LifecycleVersionRulesTests {
    let day: Int64 = 86_400_000

    func policy(_ rule: String) throws -> PolicySettings {
        let xml = "<LifecycleConfiguration><Rule>\(rule)</Rule></LifecycleConfiguration>"
        let configuration = try LifecycleConfiguration(xml: Array(xml.utf8))
        // What GET returns parses back to the same rules.
        #expect(try LifecycleConfiguration(xml: Array(configuration.document.text.utf8)) == configuration)
        return try #require(
            LifecyclePolicies.policy(bucket: "b", rule: configuration.rules[0], storageClasses: StorageClasses(tiers: [])))
    }

    func version(created: Int64, marker: Bool = false) -> ObjectRecord {
        var record = ObjectRecord(size: marker ? 0 : 10, etag: marker ? "" : "e", created: created, owner: "o")
        record.isDeleteMarker = marker
        return record
    }

    @Test func noncurrentVersionsAreDueDaysAfterTheirReplacementAtMidnight() throws {
        let policy = try policy(
            "<ID>n</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status>"
                + "<NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays></NoncurrentVersionExpiration>")
        #expect(policy.expireNoncurrentAfter == 86400 && policy.keepNewerNoncurrent == nil && !policy.expires)
        // Newest first: v2 (current, day 5 10:00), v1 (replaced day 5 10:00), v0 (replaced day 3).
        let versions = [version(created: 5 * day + 36_000_000), version(created: 3 * day), version(created: 1 * day)]
        // v1 became noncurrent on day 5 at 10:00: due at midnight of day 7; v0 at midnight of day 4.
        #expect(
            policy.dueVersions(bucket: "b", key: "a/k", newestFirst: versions, now: 4 * day + 1).map(\.record) == [versions[2]])
        #expect(policy.dueVersions(bucket: "b", key: "a/k", newestFirst: versions, now: 7 * day).map(\.record) == [versions[2]])
        #expect(policy.dueVersions(bucket: "b", key: "a/k", newestFirst: versions, now: 7 * day + 1).count == 2)
        #expect(policy.dueVersions(bucket: "b", key: "other/k", newestFirst: versions, now: 9 * day).isEmpty)
        // The current version is never due, alone or not.
        #expect(policy.dueVersions(bucket: "b", key: "a/k", newestFirst: [versions[0]], now: 99 * day).isEmpty)
    }

    @Test func newerNoncurrentVersionsAreKept() throws {
        let policy = try policy(
            "<ID>n</ID><Prefix/><Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>1</NoncurrentDays>"
                + "<NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>")
        #expect(policy.keepNewerNoncurrent == 2)
        let versions = (0..<5).map { version(created: Int64(5 - $0) * day) }
        let due = policy.dueVersions(bucket: "b", key: "k", newestFirst: versions, now: 99 * day)
        #expect(due.map(\.record) == Array(versions[3...]))
    }

    @Test func onlyALoneDeleteMarkerIsAnExpiredOne() throws {
        let policy = try policy(
            "<ID>m</ID><Prefix>a/</Prefix><Status>Enabled</Status><Expiration><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
        )
        #expect(policy.expireDeleteMarkers && policy.expireNoncurrentAfter == nil && policy.expiresVersions)
        let marker = version(created: day, marker: true)
        let due = policy.dueVersions(bucket: "b", key: "a/k", newestFirst: [marker], now: day)
        #expect(due.map(\.reason) == [.expiredDeleteMarker])
        #expect(policy.dueVersions(bucket: "b", key: "a/k", newestFirst: [marker, version(created: 0)], now: day).isEmpty)
        #expect(policy.dueVersions(bucket: "b", key: "a/k", newestFirst: [version(created: 0)], now: day).isEmpty)
        #expect(policy.dueVersions(bucket: "b", key: "z/k", newestFirst: [marker], now: day).isEmpty)
    }

    @Test func theYAMLFieldsParseAndBadOnesNameThemselves() throws {
        let parsed = try DepotConfiguration.parsePolicyDocument(
            #"{"name":"p","match":{"bucket":"b"},"expire":{"noncurrentAfter":"7d","keepNewerNoncurrent":3,"expiredDeleteMarkers":true}}"#,
            tiers: [])
        #expect(parsed.expireNoncurrentAfter == 7 * 86400 && parsed.keepNewerNoncurrent == 3 && parsed.expireDeleteMarkers)
        #expect(parsed.expireAfter == nil)
        for (fields, named) in [
            (#"{}"#, "expire.after"), (#"{"noncurrentAfter":"0s"}"#, "expire.noncurrentAfter"),
            (#"{"keepNewerNoncurrent":2}"#, "expire.keepNewerNoncurrent"),
            (#"{"noncurrentAfter":"1d","keepNewerNoncurrent":101}"#, "expire.keepNewerNoncurrent"),
            (#"{"expiredDeleteMarkers":"maybe"}"#, "expire.expiredDeleteMarkers"),
        ] {
            #expect(throws: ConfigError.self) {
                _ = try DepotConfiguration.parsePolicyDocument(#"{"name":"p","match":{},"expire":\#(fields)}"#, tiers: [])
            }
            do {
                _ = try DepotConfiguration.parsePolicyDocument(#"{"name":"p","match":{},"expire":\#(fields)}"#, tiers: [])
            } catch {
                #expect("\(error)".contains(named), "\(fields): \(error)")
            }
        }
    }
}
