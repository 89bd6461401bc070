import DepotConfig
import DepotEngine
import Testing

@testable import DepotS3

/// PutBucketReplication's validation (S3's errors), the canonical document GET returns, which tier
/// a destination ARN names, and how rules become Depot policies: one per enabled rule, the higher
/// priority deciding between overlapping rules to one tier.
struct ReplicationConfigurationTests {
    func parse(_ xml: String) throws -> ReplicationConfiguration { try ReplicationConfiguration(xml: Array(xml.utf8)) }

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

    func rule(
        _ id: String, priority: Int? = 1, filter: String = "<Filter><Prefix>a/</Prefix></Filter>",
        marker: String? = "Disabled", to destination: String = "arn:aws:s3:::cloud", extra: String = ""
    ) -> String {
        "<Rule><ID>\(id)</ID>" + (priority.map { "<Priority>\($0)</Priority>" } ?? "") + "<Status>Enabled</Status>" + filter
            + (marker.map { "<DeleteMarkerReplication><Status>\($0)</Status></DeleteMarkerReplication>" } ?? "")
            + "<Destination><Bucket>\(destination)</Bucket></Destination>" + extra + "</Rule>"
    }

    func document(_ rules: String...) -> String {
        "<ReplicationConfiguration><Role>arn:aws:iam::1:role/r</Role>" + rules.joined() + "</ReplicationConfiguration>"
    }

    /// Two S3 tiers sharing the remote bucket `archive`, an Azure tier alone in `videos`, a NAS.
    let tiers: [TierSettings] = [
        #"{"name": "cloud", "type": "s3", "endpoint": "http://127.0.0.1:1", "bucket": "archive", "accessKey": "a", "secretKey": "b"}"#,
        #"{"name": "other", "type": "s3", "endpoint": "http://127.0.0.1:1", "bucket": "archive", "accessKey": "a", "secretKey": "b"}"#,
        #"{"name": "lone", "type": "azure", "account": "acct", "container": "videos", "sas": "sv=1"}"#,
        #"{"name": "nas", "type": "filesystem", "path": "/tmp/nas"}"#,
    ].map { try! DepotConfiguration.parseTierDocument($0) }

    @Test func writesBackWhatItRead() throws {
        let xml = document(
            rule(
                "tagged", priority: 7,
                filter: "<Filter><And><Prefix>cam/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>"),
            rule(
                "all", priority: nil, filter: "<Filter/>", marker: "Enabled", to: "arn:minio:replication::x:nas",
                extra: "<ExistingObjectReplication><Status>Disabled</Status></ExistingObjectReplication>"))
        let configuration = try parse(xml)
        #expect(configuration.role == "arn:aws:iam::1:role/r")
        #expect(configuration.rules.map(\.id) == ["tagged", "all"])
        #expect(configuration.rules[0].filter.tags == [.init(key: "k", value: "v")] && configuration.rules[0].priority == 7)
        #expect(configuration.rules[1].replicatesDeleteMarkers && configuration.rules[1].effectivePriority == 0)
        #expect(try parse(configuration.document.text) == configuration)
        // A V1 rule (top-level Prefix) replicates delete markers, as S3's V1 schema does.
        let v1 = try parse(document(rule("old", priority: nil, filter: "<Prefix>old/</Prefix>", marker: nil)))
        #expect(v1.rules[0].isV1 && v1.rules[0].replicatesDeleteMarkers)
        #expect(try parse(v1.document.text) == v1)
    }

    @Test func refusesWhatS3Refuses() {
        let cases: [(String, String, String)] = [
            ("<ReplicationConfiguration><Role>r</Role></ReplicationConfiguration>", "MalformedXML", ""),
            ("<Other>" + rule("a") + "</Other>", "MalformedXML", ""),
            (document(rule("a", marker: "Maybe")), "MalformedXML", ""),
            (document(rule("a", filter: "")), "MalformedXML", ""),
            (document(rule("a", to: "")), "MalformedXML", ""),
            (document(rule("a", filter: "<Filter><ObjectSizeLessThan>5</ObjectSizeLessThan></Filter>")), "MalformedXML", ""),
            (document(rule("a", extra: "<Unknown/>")), "MalformedXML", ""),
            (document(rule("a", priority: nil, marker: nil)), "InvalidRequest", "DeleteMarkerReplication"),
            (
                document(rule("a", filter: "<Filter><Tag><Key>k</Key><Value>v</Value></Tag></Filter>", marker: "Enabled")),
                "InvalidRequest", "Tag"
            ),
            (document(rule("a", priority: 2, filter: "<Prefix>x/</Prefix>", marker: nil)), "InvalidRequest", "Priority"),
            (
                document(rule("a"), rule("b", priority: nil, filter: "<Prefix>x/</Prefix>", marker: nil)), "InvalidRequest",
                "legacy Prefix"
            ),
            (document(rule("a"), rule("a", priority: 2)), "InvalidArgument", "unique"),
            (document(rule("a", priority: -1)), "InvalidArgument", "Priority"),
            (document(rule("a", extra: "<SourceSelectionCriteria/>")), "NotImplemented", "SourceSelectionCriteria"),
            (
                document(rule("a", extra: "<ExistingObjectReplication><Status>Enabled</Status></ExistingObjectReplication>")),
                "NotImplemented", "ExistingObjectReplication"
            ),
            (
                document(
                    "<Rule><ID>m</ID><Priority>1</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication>"
                        + "<Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::cloud</Bucket>"
                        + "<Metrics><Status>Enabled</Status></Metrics></Destination></Rule>"),
                "NotImplemented", "Destination.Metrics"
            ),
            (
                document(
                    "<Rule><ID>s</ID><Priority>1</Priority><Status>Enabled</Status><Filter/><DeleteMarkerReplication>"
                        + "<Status>Disabled</Status></DeleteMarkerReplication><Destination><Bucket>arn:aws:s3:::cloud</Bucket>"
                        + "<StorageClass>FAST</StorageClass></Destination></Rule>"),
                "InvalidStorageClass", "FAST"
            ),
        ]
        for (xml, code, named) in cases {
            let refused = refusal(xml)
            #expect(refused?.code == code, "\(xml): \(String(describing: refused))")
            #expect(named.isEmpty || (refused?.message.contains(named) ?? false), "\(xml): \(String(describing: refused))")
        }
    }

    @Test func destinationsNameTiers() throws {
        func tier(_ arn: String) throws -> String { try ReplicationDestination.tier(named: arn, among: tiers, rule: "r") }
        #expect(try tier("arn:aws:s3:::nas") == "nas")
        #expect(try tier("arn:minio:replication:us-east-1:5d3b:cloud") == "cloud")
        #expect(try tier("arn:minio:replication::5d3b:videos") == "lone")  // the one tier with that container
        for (arn, code) in [
            ("arn:aws:s3:::archive", "InvalidRequest"),  // the bucket of two tiers
            ("arn:aws:s3:::nowhere", "InvalidRequest"), ("nas", "InvalidArgument"),
            ("arn:aws:s3:eu-west-1::nas", "InvalidArgument"), ("arn:aws:s3:::nas/key", "InvalidArgument"),
            ("arn:aws:sqs:::nas", "InvalidArgument"),
        ] {
            #expect(throws: S3Error.self, "\(arn)") { try tier(arn) }
            do { _ = try tier(arn) } catch let error as S3Error { #expect(error.code == code && error.message.contains(arn)) }
        }
        // Equal priorities are refused among rules to one tier only.
        let same = try parse(document(rule("a"), rule("b", filter: "<Filter><Prefix>b/</Prefix></Filter>")))
        #expect(throws: S3Error.self) { try ReplicationDestination.resolve(same, tiers: tiers) }
        let apart = try parse(document(rule("a"), rule("b", to: "arn:aws:s3:::nas")))
        #expect(try ReplicationDestination.resolve(apart, tiers: tiers) == ["a": "cloud", "b": "nas"])
    }

    @Test func theHigherPriorityDecidesBetweenOverlappingRules() throws {
        let configuration = try parse(
            document(
                rule("all", priority: 1, filter: "<Filter><Prefix></Prefix></Filter>", marker: "Enabled"),
                rule("cams", priority: 5, filter: "<Filter><Prefix>cam/</Prefix></Filter>"),
                rule("elsewhere", priority: 1, filter: "<Filter/>", to: "arn:aws:s3:::nas"),
                rule("off", priority: 9, filter: "<Filter/>").replacingOccurrences(of: "Enabled", with: "Disabled")))
        let made = try ReplicationPolicies.policies(
            bucket: "rec", document: Array(configuration.document.text.utf8), tiers: tiers)
        #expect(made.problems.isEmpty)
        let byName = Dictionary(uniqueKeysWithValues: made.policies.map { ($0.name, $0) })
        #expect(
            made.policies.map(\.name) == ["s3-replication:rec:all", "s3-replication:rec:cams", "s3-replication:rec:elsewhere"])
        let all = try #require(byName["s3-replication:rec:all"])
        let cams = try #require(byName["s3-replication:rec:cams"])
        let elsewhere = try #require(byName["s3-replication:rec:elsewhere"])
        #expect(all.yieldsTo.map(\.name) == ["s3-replication:rec:cams"] && cams.yieldsTo.isEmpty && elsewhere.yieldsTo.isEmpty)
        #expect(all.propagateDeletes && !cams.propagateDeletes && all.replicateTo == ["cloud"] && all.replicateVersions == .all)
        func matches(_ policy: PolicySettings, _ key: String) -> Bool {
            policy.matches(bucket: "rec", key: key, size: 1, metadata: [])
        }
        #expect(!matches(all, "cam/1.mp4") && matches(cams, "cam/1.mp4") && matches(elsewhere, "cam/1.mp4"))
        #expect(matches(all, "door/1.mp4") && !matches(cams, "door/1.mp4"))
        // A rule whose tier is gone is left out, named; the others still apply.
        let withoutNas = try ReplicationPolicies.policies(
            bucket: "rec", document: Array(configuration.document.text.utf8), tiers: tiers.filter { $0.name != "nas" })
        #expect(withoutNas.policies.count == 2 && withoutNas.problems.count == 1)
        #expect(withoutNas.problems.first?.contains("elsewhere") ?? false)
    }

    @Test func mangledDocumentsAreRefusedOrWriteBackTheSame() {
        let seed = Array(
            document(
                rule("a", filter: "<Filter><And><Prefix>p/</Prefix><Tag><Key>k</Key><Value>v</Value></Tag></And></Filter>"),
                rule("b", priority: 2, marker: "Enabled", to: "arn:minio:replication::1:nas")
            ).utf8)
        let alphabet = Array("<>/ abcdefgPriorityStatusEnabled0123456789-&;:".utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(alphabet.randomElement(using: &generator)!, at: at)
                default: bytes[at] = alphabet.randomElement(using: &generator)!
                }
            }
            do {
                let configuration = try ReplicationConfiguration(xml: bytes)
                #expect(try ReplicationConfiguration(xml: Array(configuration.document.text.utf8)) == configuration)
            } catch is S3Error {
            } catch {
                Issue.record("\(String(decoding: bytes, as: UTF8.self)): \(error)")
            }
        }
    }
}
