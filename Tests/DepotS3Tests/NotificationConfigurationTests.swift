import DepotConfig
import DepotEngine
import Testing

@testable import DepotS3

/// PutBucketNotificationConfiguration's validation (S3's errors), the canonical document GET
/// returns, the ARNs that name sinks, S3 event names with wildcards, and THE RULE joining a sink's
/// own match with the bucket's configurations (SinkRoutes).
struct NotificationConfigurationTests {
    func parse(_ xml: String) throws -> NotificationConfiguration { try NotificationConfiguration(xml: Array(xml.utf8)) }

    func refusal(_ xml: String) -> String? {
        do {
            _ = try parse(xml)
            return nil
        } catch let error as S3Error {
            return error.code
        } catch {
            return "unexpected \(error)"
        }
    }

    func queue(_ inner: String) -> String {
        "<NotificationConfiguration><QueueConfiguration>\(inner)</QueueConfiguration></NotificationConfiguration>"
    }

    var events: EventSettings {
        var settings = EventSettings()
        settings.sinks = [SinkSettings(name: "hook", kind: .webhook), SinkSettings(name: "a:b", kind: .sqs)]
        return settings
    }

    @Test func aDocumentWritesBackToTheSameEntries() throws {
        let xml = """
            <NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <TopicConfiguration><Id>t</Id><Topic>arn:minio:sqs::hook:webhook</Topic>
                <Event>s3:ObjectCreated:*</Event><Event>s3:ObjectCreated:*</Event>
                <Filter><S3Key><FilterRule><Name>Suffix</Name><Value>.mp4</Value></FilterRule>
                <FilterRule><Name>prefix</Name><Value> cam/</Value></FilterRule></S3Key></Filter></TopicConfiguration>
              <CloudFunctionConfiguration><CloudFunction>arn:minio:sqs::a:b:sqs</CloudFunction>
                <Event>s3:ObjectRemoved:Delete</Event></CloudFunctionConfiguration>
            </NotificationConfiguration>
            """
        let parsed = try parse(xml)
        #expect(parsed.entries.count == 2)
        #expect(parsed.entries[0].events == ["s3:ObjectCreated:*"])
        // A prefix is taken as sent: the space is part of it.
        #expect(parsed.entries[0].prefix == " cam/" && parsed.entries[0].suffix == ".mp4")
        #expect(parsed.entries[1].id.count == 48 && parsed.entries[1].kind == .cloudFunction)
        #expect(try NotificationConfiguration(xml: Array(parsed.document.text.utf8)) == parsed)
        try parsed.checkTargets(events, region: "us-east-1")
        let rules = parsed.rules(events, region: "us-east-1")
        #expect(rules.unknownARNs.isEmpty)
        #expect(rules.rules.map(\.sink) == ["hook", "a:b"])
    }

    @Test func refusalsAreS3s() {
        let arn = "<Queue>arn:minio:sqs::hook:webhook</Queue>"
        #expect(refusal("<NotificationConfiguration>") == "MalformedXML")
        #expect(refusal("<Other/>") == "MalformedXML")
        #expect(refusal(queue(arn)) == "MalformedXML")  // no Event
        #expect(refusal(queue("<Event>s3:ObjectCreated:*</Event>")) == "MalformedXML")  // no ARN
        #expect(refusal(queue(arn + arn + "<Event>s3:ObjectCreated:*</Event>")) == "MalformedXML")
        #expect(refusal(queue(arn + "<Event>s3:ObjectCreated:*</Event><Unknown/>")) == "MalformedXML")
        #expect(refusal(queue(arn + "<Event>s3:ObjectCreated:*</Event><Filter><Other/></Filter>")) == "MalformedXML")
        for event in ["s3:*", "s3:ObjectCreated", "s3:ObjectCreated:P*", "s3:Nothing:*", "*", "s3:TestEvent", ""] {
            #expect(refusal(queue(arn + "<Event>\(event)</Event>")) == "InvalidArgument", "\(event)")
        }
        let rule = { (name: String, value: String) in
            "<FilterRule><Name>\(name)</Name><Value>\(value)</Value></FilterRule>"
        }
        let filtered = { (rules: String) in
            queue(arn + "<Event>s3:ObjectCreated:*</Event><Filter><S3Key>\(rules)</S3Key></Filter>")
        }
        #expect(refusal(filtered(rule("prefix", "a") + rule("Prefix", "b"))) == "InvalidArgument")
        #expect(refusal(filtered(rule("suffix", "a") + rule("suffix", "b"))) == "InvalidArgument")
        #expect(refusal(filtered(rule("middle", "a"))) == "InvalidArgument")
        #expect(refusal(filtered(rule("prefix", String(repeating: "p", count: 1025)))) == "InvalidArgument")
        #expect(refusal(filtered(rule("prefix", String(repeating: "p", count: 1024)))) == nil)
        let twice = "<QueueConfiguration><Id>same</Id>\(arn)<Event>s3:ObjectCreated:*</Event></QueueConfiguration>"
        #expect(refusal("<NotificationConfiguration>\(twice)\(twice)</NotificationConfiguration>") == "InvalidArgument")
        #expect(refusal("<NotificationConfiguration><EventBridgeConfiguration/></NotificationConfiguration>") == "NotImplemented")
        #expect(refusal("<NotificationConfiguration/>") == nil)
    }

    @Test func arnsNameConfiguredSinksOnly() throws {
        #expect(events.sink(arn: "arn:minio:sqs::hook:webhook", region: "eu-west-1")?.name == "hook")
        #expect(events.sink(arn: "arn:minio:sqs:eu-west-1:hook:webhook", region: "eu-west-1")?.name == "hook")
        #expect(events.sink(arn: "arn:minio:sqs::a:b:sqs", region: "eu-west-1")?.name == "a:b")
        for arn in [
            "arn:minio:sqs:us-east-1:hook:webhook", "arn:minio:sqs::hook:sqs", "arn:minio:sqs::other:webhook",
            "arn:aws:sqs:us-east-1:123456789012:hook", "arn:minio:sqs::hook", "hook", "",
        ] {
            #expect(events.sink(arn: arn, region: "eu-west-1") == nil, "\(arn)")
        }
        #expect(SinkSettings(name: "hook", kind: .webhook).arn == "arn:minio:sqs::hook:webhook")
        let unknown = try parse(queue("<Queue>arn:minio:sqs::gone:webhook</Queue><Event>s3:ObjectCreated:*</Event>"))
        #expect(throws: S3Error.self) { try unknown.checkTargets(events, region: "us-east-1") }
        #expect(unknown.rules(events, region: "us-east-1").unknownARNs == ["arn:minio:sqs::gone:webhook"])
    }

    @Test func eventNamesAndWildcards() {
        func event(_ kind: EventRecord.Kind, _ operation: String) -> EventRecord {
            EventRecord(kind: kind, operation: operation, bucket: "b", key: "k")
        }
        #expect(S3EventName.of(event(.created, "CompleteMultipartUpload")) == "s3:ObjectCreated:CompleteMultipartUpload")
        #expect(S3EventName.of(event(.removed, "Delete")) == "s3:ObjectRemoved:Delete")
        #expect(S3EventName.of(event(.removed, "Expired")) == "s3:LifecycleExpiration:Delete")
        #expect(S3EventName.matches("s3:ObjectCreated:*", "s3:ObjectCreated:Copy"))
        #expect(!S3EventName.matches("s3:ObjectRemoved:*", "s3:LifecycleExpiration:Delete"))
        #expect(!S3EventName.matches("s3:ObjectCreated:Put", "s3:ObjectCreated:Post"))
        #expect(S3EventName.matches("s3:LifecycleTransition", "s3:LifecycleTransition"))
        #expect(S3EventName.isKnown("s3:ObjectAccessed:*") && S3EventName.isKnown("s3:Replication:*"))
    }

    @Test func theOneRuleJoinsTheSinksMatchAndTheBucketsConfigurations() {
        var settings = EventSettings()
        var own = SinkSettings(name: "own", kind: .webhook)
        own.buckets = ["rec"]
        own.prefix = "cam/"
        own.kinds = [.created]
        var only = SinkSettings(name: "only", kind: .webhook)
        only.bucketNotificationsOnly = true
        settings.sinks = [own, only]
        settings.bucketRules = [
            "rec": [
                BucketNotificationRule(id: "jpg", sink: "own", events: ["s3:ObjectRemoved:*"], suffix: ".jpg"),
                BucketNotificationRule(id: "all", sink: "own", events: ["s3:ObjectCreated:*", "s3:ObjectRemoved:*"]),
                BucketNotificationRule(id: "puts", sink: "only", events: ["s3:ObjectCreated:Put"], prefix: "cam/"),
            ]
        ]
        let ownRoutes = SinkRoutes(sink: own, settings: settings)
        let onlyRoutes = SinkRoutes(sink: only, settings: settings)
        func event(_ kind: EventRecord.Kind, _ operation: String, _ bucket: String, _ key: String) -> EventRecord {
            EventRecord(kind: kind, operation: operation, bucket: bucket, key: key)
        }
        // Both ways: once, under the first matching configuration's Id.
        #expect(ownRoutes.configurationId(for: event(.created, "Put", "rec", "cam/a.mp4")) == "all")
        #expect(ownRoutes.configurationId(for: event(.removed, "Delete", "rec", "door/a.jpg")) == "jpg")
        // Only the sink's own match (another bucket).
        #expect(ownRoutes.configurationId(for: event(.created, "Put", "other", "cam/a.mp4")) == nil)
        // A bucket notification only sink: its rules and nothing else.
        #expect(onlyRoutes.configurationId(for: event(.created, "Put", "rec", "cam/a.mp4")) == "puts")
        #expect(onlyRoutes.configurationId(for: event(.created, "Copy", "rec", "cam/a.mp4")) == nil)
        #expect(onlyRoutes.configurationId(for: event(.created, "Put", "rec", "door/a.mp4")) == nil)
        #expect(onlyRoutes.configurationId(for: event(.created, "Put", "other", "cam/a.mp4")) == nil)
        #expect(ownRoutes.ruleCount == 2 && onlyRoutes.ruleCount == 1)
        // The outbox records what either asks for, and nothing for a notifications-only sink alone.
        #expect(settings.recordedKinds == [.created, .removed])
        var bare = EventSettings()
        bare.sinks = [only]
        #expect(bare.recordedKinds.isEmpty)
    }

    @Test func mangledDocumentsAreRefusedOrWriteBackTheSame() {
        let seed = Array(
            (queue(
                "<Id>x</Id><Queue>arn:minio:sqs::hook:webhook</Queue><Event>s3:ObjectCreated:*</Event>"
                    + "<Filter><S3Key><FilterRule><Name>prefix</Name><Value>a/</Value></FilterRule></S3Key></Filter>")).utf8)
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<3000 {
            var bytes = seed
            for _ in 0..<Int.random(in: 1...4, using: &generator) {
                let at = Int.random(in: 0..<bytes.count, using: &generator)
                switch Int.random(in: 0..<3, using: &generator) {
                case 0: bytes.remove(at: at)
                case 1: bytes.insert(UInt8.random(in: 32...126, using: &generator), at: at)
                default: bytes[at] = UInt8.random(in: 0...255, using: &generator)
                }
            }
            do {
                let parsed = try NotificationConfiguration(xml: bytes)
                #expect(try NotificationConfiguration(xml: Array(parsed.document.text.utf8)) == parsed)
            } catch is S3Error {
            } catch {
                Issue.record("not an S3 error: \(error)")
            }
        }
    }

    @Test func aSinkTakesBucketNotificationsOnlyWithoutAMatch() throws {
        func sink(_ extra: String) -> String {
            "events: { sinks: [{ name: n, type: webhook, url: \"http://127.0.0.1:9/\", bucketNotificationsOnly: true\(extra) }] }"
        }
        #expect(try DepotConfiguration.parse(yaml: sink("")).events.sinks[0].bucketNotificationsOnly)
        #expect(throws: ConfigError.self) { try DepotConfiguration.parse(yaml: sink(", match: { bucket: rec }")) }
    }
}
