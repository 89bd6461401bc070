import DepotConfig
import DepotEngine
import Foundation
import Testing

import DepotEvents

@Suite struct EventFormatTests {
    static let created = EventRecord(
        kind: .created, operation: "Put", bucket: "rec", key: "front door/ä+1.mp4", size: 42, etag: "abc",
        userMetadata: [("event-instancename", "front")], principal: "CAM", source: "vault", time: 1_700_000_000_123,
        sequence: 0x1F)

    func json(_ message: EventMessage) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(message.body)) as? [String: Any])
    }

    @Test func s3FormatFollowsTheNotificationStructure() throws {
        var sink = SinkSettings(name: "hook", kind: .webhook)
        sink.format = .s3
        let body = try json(EventFormat.message(Self.created, sink: sink, region: "eu-west-1"))
        let record = try #require((body["Records"] as? [[String: Any]])?.first)
        #expect(record["eventName"] as? String == "s3:ObjectCreated:Put")
        #expect(record["eventTime"] as? String == "2023-11-14T22:13:20.123Z")
        #expect(record["awsRegion"] as? String == "eu-west-1")
        let object = try #require((record["s3"] as? [String: Any])?["object"] as? [String: Any])
        #expect(object["key"] as? String == "front+door/%C3%A4%2B1.mp4")
        #expect(object["sequencer"] as? String == "000000000000001F")
        #expect(object["size"] as? Int == 42)
    }

    @Test func eventNamesForEveryKind() {
        func name(_ kind: EventRecord.Kind, _ operation: String) -> String {
            S3EventFormat.eventName(EventRecord(kind: kind, operation: operation, bucket: "b", key: "k"))
        }
        #expect(name(.created, "CompleteMultipartUpload") == "s3:ObjectCreated:CompleteMultipartUpload")
        #expect(name(.removed, "Delete") == "s3:ObjectRemoved:Delete")
        #expect(name(.removed, "Expired") == "s3:LifecycleExpiration:Delete")
        #expect(name(.removed, "DeleteMarkerCreated") == "s3:ObjectRemoved:DeleteMarkerCreated")
        #expect(name(.removed, "ExpiredDeleteMarkerCreated") == "s3:LifecycleExpiration:DeleteMarkerCreated")
        #expect(name(.replicationFailed, "ReplicationFailed") == "s3:Replication:OperationFailedReplication")
    }

    @Test func kerberosFormatIsTheVaultPipelineEvent() throws {
        var sink = SinkSettings(name: "k", kind: .kafka)
        sink.format = .kerberos
        sink.provider = "edge-1"
        let body = try json(EventFormat.message(Self.created, sink: sink, region: "us-east-1"))
        #expect(body["provider"] as? String == "kstorage")
        #expect(body["source"] as? String == "edge-1")
        #expect(body["request"] as? String == "persist")
        #expect(body["date"] as? Int == 1_700_000_000)
        let payload = try #require(body["payload"] as? [String: Any])
        #expect(payload["key"] as? String == "front door/ä+1.mp4")
        #expect(payload["fileSize"] as? Int == 42)
        #expect((payload["metadata"] as? [String: String]) == ["event-instancename": "front"])
    }

    @Test func filtersSelectBucketPrefixKindAndAccount() {
        var sink = SinkSettings(name: "s", kind: .webhook)
        sink.buckets = ["rec"]
        sink.prefix = "front"
        sink.account = "CAM"
        #expect(sink.wants(Self.created))
        var other = Self.created
        other.principal = "OTHER"
        #expect(!sink.wants(other))
        other = Self.created
        other.kind = .replicated
        #expect(!sink.wants(other))
        other = Self.created
        other.bucket = "x"
        #expect(!sink.wants(other))
    }
}
