import DepotConfig
import DepotEngine
import HTTPTypes
import Testing

@testable import DepotS3

/// PutBucketLifecycleConfiguration's validation (S3's errors naming the field), the canonical
/// document GET returns, and how a rule becomes a Depot policy (filters, strict size bounds,
/// days counted to midnight UTC, dates) and the `x-amz-expiration` header.
struct LifecycleConfigurationTests {
    func parse(_ xml: String) throws -> LifecycleConfiguration { try LifecycleConfiguration(xml: Array(xml.utf8)) }

    func refusal(_ xml: String) -> (code: String, message: String)? {
        do {
            _ = try parse(xml)
            return nil
        } catch let error as S3Error {
            return (error.code, error.message)
        } catch {
            return ("unexpected \(error)", "")
        }
    }

    func rules(_ bodies: String...) -> String {
        "<LifecycleConfiguration>" + bodies.map { "<Rule>\($0)</Rule>" }.joined() + "</LifecycleConfiguration>"
    }

    let day: Int64 = 86_400_000

    @Test func parsesEveryFilterFormAndWritesItBack() throws {
        let configuration = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <LifecycleConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <Rule><ID>legacy</ID><Prefix>old/</Prefix><Status>Enabled</Status><Expiration><Days>30</Days></Expiration></Rule>
              <Rule><ID>empty</ID><Filter/><Status>Disabled</Status>
                <AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload></Rule>
              <Rule><ID>tag</ID><Filter><Tag><Key>class</Key><Value>tmp</Value></Tag></Filter><Status>Enabled</Status>
                <Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration></Rule>
              <Rule><ID>and</ID><Filter><And><Prefix>cam/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>
                <ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>
                <Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>
            </LifecycleConfiguration>
            """)
        #expect(configuration.rules.map(\.id) == ["legacy", "empty", "tag", "and"])
        #expect(configuration.rules[0].filter == .init(form: .legacyPrefix, prefix: "old/"))
        #expect(configuration.rules[1].enabled == false && configuration.rules[1].abortUploadDays == 2)
        #expect(configuration.rules[2].expirationDate == 1_893_456_000_000)
        #expect(configuration.rules[3].filter.sizeGreaterThan == 100 && configuration.rules[3].filter.sizeLessThan == 1000)
        // What is stored and returned parses to the same configuration.
        let text = configuration.document.text
        #expect(text.contains("<Date>2030-01-01T00:00:00.000Z</Date>"))
        #expect(text.contains("<Prefix>old/</Prefix><Status>Enabled</Status>"))
        #expect(try parse(text) == configuration)
    }

    @Test func prefixesAndTagsKeepTheirSpaces() throws {
        let configuration = try parse(
            rules(
                "<ID> x </ID><Filter><And><Prefix> cam/</Prefix><Tag><Key>a b</Key><Value> v </Value></Tag></And></Filter>"
                    + "<Status> Enabled </Status><Expiration><Days> 1 </Days></Expiration>"))
        #expect(
            configuration.rules[0].filter.prefix == " cam/"
                && configuration.rules[0].filter.tags == [.init(key: "a b", value: " v ")])
        #expect(configuration.rules[0].id == "x" && configuration.rules[0].expirationDays == 1)
    }

    @Test func aRuleWithoutAnIDGetsOne() throws {
        let configuration = try parse(
            rules("<Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"))
        #expect(configuration.rules[0].id.count == 48)
    }

    @Test func refusesWhatS3Refuses() {
        let expire = "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
        let filter = "<Filter><Prefix>a/</Prefix></Filter>"
        let cases: [(String, String, String)] = [
            ("<LifecycleConfiguration/>", "MalformedXML", ""),
            ("<Other><Rule/></Other>", "MalformedXML", ""),
            (rules("<ID>x</ID>" + expire), "MalformedXML", ""),  // neither Filter nor Prefix
            (rules("<ID>x</ID><Prefix/>" + filter + expire), "MalformedXML", ""),  // both
            (rules("<ID>x</ID>" + filter + "<Status>On</Status><Expiration><Days>1</Days></Expiration>"), "MalformedXML", ""),
            (
                rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Expiration><Days>one</Days></Expiration>"),
                "MalformedXML", ""
            ),
            (
                rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Expiration><Days>0</Days></Expiration>"),
                "InvalidArgument", "Expiration.Days"
            ),
            (
                rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Expiration><Days>-3</Days></Expiration>"),
                "InvalidArgument", "Expiration.Days"
            ),
            (
                rules(
                    "<ID>x</ID>" + filter + "<Status>Enabled</Status><Expiration><Date>2030-01-01T10:00:00Z</Date></Expiration>"),
                "InvalidArgument", "Expiration.Date"
            ),
            (
                rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Expiration><Date>soon</Date></Expiration>"),
                "InvalidArgument", "Expiration.Date"
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><Expiration><Days>1</Days><Date>2030-01-01T00:00:00Z</Date></Expiration>"),
                "InvalidArgument", "Expiration"
            ),
            (rules("<ID>x</ID>" + filter + "<Status>Enabled</Status>"), "InvalidRequest", "action"),
            (rules("<ID>x</ID>" + filter + expire, "<ID>x</ID>" + filter + expire), "InvalidArgument", "unique"),
            (rules("<ID>\(String(repeating: "i", count: 256))</ID>" + filter + expire), "InvalidArgument", "ID"),
            (
                rules(
                    "<ID>x</ID><Filter><And><ObjectSizeGreaterThan>10</ObjectSizeGreaterThan><ObjectSizeLessThan>10</ObjectSizeLessThan></And></Filter>"
                        + expire),
                "InvalidArgument", "ObjectSizeGreaterThan"
            ),
            (
                rules("<ID>x</ID><Filter><ObjectSizeLessThan>0</ObjectSizeLessThan></Filter>" + expire),
                "InvalidArgument", "Filter.ObjectSizeLessThan"
            ),
            (
                rules("<ID>x</ID><Filter><Prefix>a</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></Filter>" + expire),
                "MalformedXML", ""
            ),
            (
                rules(
                    "<ID>x</ID><Filter><And><Tag><Key>k</Key><Value>v</Value></Tag><Tag><Key>k</Key><Value>w</Value></Tag></And></Filter>"
                        + expire),
                "InvalidArgument", "duplicate tag key k"
            ),
            (
                rules(
                    "<ID>x</ID><Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter><Status>Enabled</Status>"
                        + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>1</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
                ),
                "InvalidArgument", "AbortIncompleteMultipartUpload"
            ),
            (rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Bogus/>"), "MalformedXML", ""),
            // Not carried out by Depot: 501 naming the element.
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><Transition><Days>30</Days><StorageClass>GLACIER</StorageClass></Transition>"
                        + "<Transition><Days>60</Days><StorageClass>DEEP</StorageClass></Transition>"),
                "NotImplemented", "several Transition"
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><NoncurrentVersionTransition><NoncurrentDays>3</NoncurrentDays><StorageClass>G</StorageClass></NoncurrentVersionTransition>"
                ),
                "NotImplemented", "NoncurrentVersionTransition"
            ),
            (
                rules("<ID>x</ID>" + filter + "<Status>Enabled</Status><Transition><Days>3</Days></Transition>"),
                "MalformedXML", ""
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><Transition><Days>3</Days><Date>2030-01-01T00:00:00Z</Date><StorageClass>G</StorageClass></Transition>"
                ),
                "MalformedXML", ""
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><Transition><Days>-1</Days><StorageClass>G</StorageClass></Transition>"),
                "InvalidArgument", "Transition.Days"
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><NoncurrentVersionExpiration><NoncurrentDays>0</NoncurrentDays></NoncurrentVersionExpiration>"
                ),
                "InvalidArgument", "NoncurrentVersionExpiration.NoncurrentDays"
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><NoncurrentVersionExpiration><NewerNoncurrentVersions>2</NewerNoncurrentVersions></NoncurrentVersionExpiration>"
                ),
                "MalformedXML", ""
            ),
            (
                rules(
                    "<ID>x</ID>" + filter
                        + "<Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date><ExpiredObjectDeleteMarker>true</ExpiredObjectDeleteMarker></Expiration>"
                ),
                "InvalidArgument", "ExpiredObjectDeleteMarker"
            ),
        ]
        for (xml, code, named) in cases {
            let answer = refusal(xml)
            #expect(answer?.code == code, "\(xml): \(String(describing: answer))")
            #expect(named.isEmpty || (answer?.message.contains(named) ?? false), "\(xml): \(String(describing: answer))")
        }
        let many =
            "<LifecycleConfiguration>"
            + (0...1000).map {
                "<Rule><ID>r\($0)</ID><Prefix/><Status>Enabled</Status><Expiration><Days>1</Days></Expiration></Rule>"
            }
            .joined() + "</LifecycleConfiguration>"
        #expect(refusal(many)?.code == "InvalidArgument")
    }

    @Test func anEnabledRuleBecomesAPolicyWithStrictSizeBoundsAndMidnightDays() throws {
        let configuration = try parse(
            rules(
                "<ID>and</ID><Filter><And><Prefix>cam/</Prefix><Tag><Key>a</Key><Value>1</Value></Tag>"
                    + "<ObjectSizeGreaterThan>100</ObjectSizeGreaterThan><ObjectSizeLessThan>1000</ObjectSizeLessThan></And></Filter>"
                    + "<Status>Enabled</Status><Expiration><Days>1</Days></Expiration>",
                "<ID>off</ID><Prefix/><Status>Disabled</Status><Expiration><Days>1</Days></Expiration>"))
        let policies = try LifecyclePolicies.policies(
            bucket: "rec", document: Array(configuration.document.text.utf8), storageClasses: StorageClasses(tiers: [])
        ).policies
        #expect(policies.map(\.name) == ["s3-lifecycle:rec:and"])
        let policy = policies[0]
        #expect(policy.bucket == "rec" && policy.prefix == "cam/" && policy.tags == ["a": "1"])
        #expect(policy.minimumSize == 101 && policy.maximumSize == 999)
        #expect(policy.matches(bucket: "rec", key: "cam/x", size: 101, metadata: [], tags: [("a", "1")]))
        #expect(!policy.matches(bucket: "rec", key: "cam/x", size: 100, metadata: [], tags: [("a", "1")]))
        #expect(!policy.matches(bucket: "rec", key: "cam/x", size: 1000, metadata: [], tags: [("a", "1")]))
        #expect(!policy.matches(bucket: "rec", key: "cam/x", size: 500, metadata: [], tags: []))
        // Created at 10:00 on day 100: one day later is 10:00 on day 101, counted to midnight of day 102.
        #expect(policy.expiry(created: 100 * day + 36_000_000) == 102 * day)
        #expect(policy.expiry(created: 100 * day) == 101 * day)
        #expect(LifecyclePolicies.isLifecyclePolicy(policy.name))
    }

    @Test func datesAndUploadAbortsMapToThePolicy() throws {
        let configuration = try parse(
            rules(
                "<ID>d</ID><Filter><Prefix>a/</Prefix></Filter><Status>Enabled</Status>"
                    + "<Expiration><Date>2030-01-01T00:00:00.000Z</Date></Expiration>"
                    + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>3</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
            ))
        let policy = try #require(
            LifecyclePolicies.policy(bucket: "b", rule: configuration.rules[0], storageClasses: StorageClasses(tiers: [])))
        #expect(policy.expiry(created: 0) == 1_893_456_000_000)
        #expect(policy.abortUploadsAfter == 3 * 86400)
        #expect(!policy.abortsUpload(created: 10 * day, now: 13 * day))
        #expect(policy.abortsUpload(created: 10 * day, now: 13 * day + 1))
    }

    @Test func depotPoliciesStillCountExactSeconds() {
        var policy = PolicySettings.named("yaml")
        policy.expireAfter = 60
        #expect(policy.expiry(created: 1_000) == 61_000)
        #expect(!PolicySettings.named("none").expires)
    }

    @Test func aTransitionMovesToTheTierOfItsClass() throws {
        let glacier = try DepotConfiguration.parseTierDocument(
            #"{"name": "cold", "type": "filesystem", "path": "/tmp/cold", "storageClass": "GLACIER_IR"}"#)
        let classes = StorageClasses(tiers: [glacier])
        let configuration = try parse(
            rules(
                "<ID>t</ID><Filter><Prefix>cam/</Prefix></Filter><Status>Enabled</Status>"
                    + "<Transition><Days>2</Days><StorageClass>GLACIER_IR</StorageClass></Transition>",
                "<ID>d</ID><Filter/><Status>Enabled</Status>"
                    + "<Transition><Date>2030-01-01T00:00:00Z</Date><StorageClass>GLACIER_IR</StorageClass></Transition>",
                "<ID>gone</ID><Filter/><Status>Enabled</Status>"
                    + "<Transition><Days>1</Days><StorageClass>DEEP</StorageClass></Transition>",
                "<ID>half</ID><Filter/><Status>Enabled</Status><Expiration><Days>9</Days></Expiration>"
                    + "<Transition><Days>1</Days><StorageClass>DEEP</StorageClass></Transition>"))
        // GET returns the Transition as it was put.
        #expect(try parse(configuration.document.text) == configuration)
        let made = try LifecyclePolicies.policies(
            bucket: "b", document: Array(configuration.document.text.utf8), storageClasses: classes)
        #expect(made.policies.map { $0.name } == ["s3-lifecycle:b:t", "s3-lifecycle:b:d", "s3-lifecycle:b:half"])
        // A class no tier declares any more: the Transition is not carried out, and said so; the
        // rule's expiry still is.
        #expect(made.problems.count == 2 && made.problems.allSatisfy { $0.contains("DEEP") })
        #expect(made.policies[2].expireAfter == 9 * 86400 && !made.policies[2].transitions)
        #expect(made.policies[2].replicateTo.isEmpty)
        let byAge = made.policies[0]
        #expect(byAge.replicateTo == ["cold"] && byAge.mode == PolicySettings.Mode.onDemand && byAge.propagateDeletes)
        #expect(byAge.transitionDue(created: 100 * day + 1) == 103 * day)
        #expect(byAge.expiry(created: 0) == nil)
        #expect(made.policies[1].transitionDue(created: 0) == 1_893_456_000_000)
    }

    @Test func theExpirationHeaderNamesTheEarliestRule() throws {
        let configuration = try parse(
            rules(
                "<ID>late</ID><Prefix>cam/</Prefix><Status>Enabled</Status><Expiration><Days>30</Days></Expiration>",
                "<ID>early</ID><Prefix>cam/</Prefix><Status>Enabled</Status><Expiration><Days>2</Days></Expiration>",
                "<ID>other</ID><Prefix>other/</Prefix><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"))
        let record = ObjectRecord(size: 5, etag: "e", created: 0, owner: "o")
        let policies = configuration.rules.compactMap {
            LifecyclePolicies.policy(bucket: "b", rule: $0, storageClasses: StorageClasses(tiers: []))
        }
        #expect(
            LifecyclePolicies.expirationHeader(policies: policies, bucket: "b", key: "cam/x", record: record)
                == "expiry-date=\"Sat, 03 Jan 1970 00:00:00 GMT\", rule-id=\"early\"")
        #expect(LifecyclePolicies.expirationHeader(policies: policies, bucket: "b", key: "none", record: record) == nil)
    }

    /// Extreme numbers and mangled documents are refused with S3's errors, never a trap (integer
    /// overflow in the size bounds or day counts would take the server down).
    @Test func extremeAndMangledDocumentsAreRefusedNotCrashed() throws {
        let huge = rules(
            "<ID>h</ID><Filter><And><ObjectSizeGreaterThan>9223372036854775806</ObjectSizeGreaterThan>"
                + "<ObjectSizeLessThan>9223372036854775807</ObjectSizeLessThan></And></Filter>"
                + "<Status>Enabled</Status><Expiration><Days>2147483647</Days></Expiration>")
        let policy = try #require(
            LifecyclePolicies.policy(bucket: "b", rule: try parse(huge).rules[0], storageClasses: StorageClasses(tiers: [])))
        #expect(policy.expiry(created: 0) != nil)
        #expect(
            refusal(rules("<ID>h</ID><Prefix/><Status>Enabled</Status><Expiration><Days>9999999999</Days></Expiration>"))?.code
                == "InvalidArgument")
        #expect(
            refusal(
                rules(
                    "<ID>h</ID><Filter><ObjectSizeGreaterThan>99999999999999999999</ObjectSizeGreaterThan></Filter><Status>Enabled</Status><Expiration><Days>1</Days></Expiration>"
                ))?.code == "MalformedXML")
        let valid = Array(
            rules(
                "<ID>a</ID><Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag><ObjectSizeGreaterThan>1</ObjectSizeGreaterThan></And></Filter>"
                    + "<Status>Enabled</Status><Expiration><Date>2030-01-01T00:00:00Z</Date></Expiration>"
                    + "<AbortIncompleteMultipartUpload><DaysAfterInitiation>2</DaysAfterInitiation></AbortIncompleteMultipartUpload>"
            ).utf8)
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next() -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int(state >> 33)
        }
        let alphabet = Array("<>/-0123456789:TZ. abcdefgh".utf8)
        for _ in 0..<3000 {
            var bytes = valid
            for _ in 0..<(1 + next() % 4) {
                let at = next() % bytes.count
                switch next() % 3 {
                case 0: bytes[at] = alphabet[next() % alphabet.count]
                case 1: bytes.remove(at: at)
                default: bytes.insert(alphabet[next() % alphabet.count], at: at)
                }
            }
            do {
                let configuration = try LifecycleConfiguration(xml: bytes)
                // Whatever is accepted writes back to a document that parses to the same rules.
                #expect(try parse(configuration.document.text) == configuration)
            } catch is S3Error {
                continue
            }
        }
    }

    @Test func theEndpointTableRoutesTheLifecycleOperations() {
        func endpoint(_ method: HTTPRequest.Method, _ target: String) -> S3Endpoint {
            S3Endpoint(S3Request(method: method, target: target, authority: "h", headers: [:], domain: "")!)
        }
        #expect(endpoint(.get, "/b?lifecycle") == .getBucketLifecycle && endpoint(.get, "/b?lifecycle").requiredAction == .list)
        #expect(endpoint(.put, "/b?lifecycle") == .putBucketLifecycle && endpoint(.put, "/b?lifecycle").requiredAction == .write)
        #expect(
            endpoint(.delete, "/b?lifecycle") == .deleteBucketLifecycle
                && endpoint(.delete, "/b?lifecycle").requiredAction == .write)
        #expect(PolicyActions.action(for: .getBucketLifecycle) == "s3:GetLifecycleConfiguration")
        #expect(PolicyActions.action(for: .putBucketLifecycle) == "s3:PutLifecycleConfiguration")
        #expect(PolicyActions.action(for: .deleteBucketLifecycle) == "s3:PutLifecycleConfiguration")
    }
}
