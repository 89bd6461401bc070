import DepotConfig
import DepotEngine
import Foundation

/// The AWS S3 event notification (event structure version 2.1), as Lambda functions, SQS
/// consumers and MinIO's clients parse it. Depot's own additions sit under `depot`, where no S3
/// consumer looks.
public enum S3EventFormat {
    static func notification(_ event: EventRecord, configurationId: String, region: String) -> [String: Any] {
        var object: [String: Any] = [
            "key": formEncode(event.key), "size": event.size, "sequencer": String(format: "%016llX", event.sequence),
        ]
        if !event.etag.isEmpty { object["eTag"] = event.etag }
        if !event.userMetadata.isEmpty {
            object["userMetadata"] = Dictionary(
                event.userMetadata.map { ("X-Amz-Meta-" + $0.0, $0.1) }, uniquingKeysWith: { a, _ in a })
        }
        var depot: [String: Any] = ["source": event.source, "request": event.request]
        if !event.tier.isEmpty { depot["tier"] = event.tier }
        if !event.detail.isEmpty { depot["error"] = event.detail }
        let record: [String: Any] = [
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": region,
            "eventTime": EventFormat.isoTime(event.time),
            "eventName": eventName(event),
            "userIdentity": ["principalId": event.principal],
            "requestParameters": ["sourceIPAddress": ""],
            "responseElements": ["x-amz-request-id": String(format: "%016llX", event.sequence), "x-amz-id-2": ""],
            "s3": [
                "s3SchemaVersion": "1.0",
                "configurationId": configurationId,
                "bucket": [
                    "name": event.bucket, "ownerIdentity": ["principalId": event.principal],
                    "arn": "arn:aws:s3:::" + event.bucket,
                ] as [String: Any],
                "object": object,
            ] as [String: Any],
            "depot": depot,
        ]
        return ["Records": [record]]
    }

    /// S3's names where S3 has one (the one mapping is S3EventName, which bucket notifications match).
    public static func eventName(_ event: EventRecord) -> String { S3EventName.of(event) }

    /// Object keys in S3 events are form-encoded: spaces as `+`, everything else but unreserved
    /// characters and `/` percent-encoded.
    static func formEncode(_ key: String) -> String {
        var out = ""
        for byte in key.utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: "~"), UInt8(ascii: "/"):
                out.unicodeScalars.append(Unicode.Scalar(byte))
            case UInt8(ascii: " "):
                out += "+"
            default:
                out += String(format: "%%%02X", byte)
            }
        }
        return out
    }
}
