import DepotConfig
import DepotEngine
import HTTPTypes
import HummingbirdCore
import NIOCore

/// PutBucketNotificationConfiguration and GetBucketNotificationConfiguration.
extension S3Service {
    /// The stored configuration, or S3's empty document: "none" is a normal answer here.
    func getBucketNotification(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard let bytes = record.document(NotificationConfiguration.documentName) else {
            return xmlResponse(BucketConfiguration.notification.emptyDocument())
        }
        let headers: HTTPFields = [.contentType: "application/xml", .contentLength: String(bytes.count)]
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    /// Replaces the bucket's configuration with a valid one whose ARNs all name configured sinks;
    /// a refused one changes nothing. An empty configuration removes it, as in S3. The dispatcher's
    /// rules follow at once (the server rebuilds them from the stored documents).
    func putBucketNotification(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: NotificationConfiguration.maximumBytes)
        let configuration = try NotificationConfiguration(xml: bytes)
        try configuration.checkTargets(settings.eventSettings(), region: settings.region)
        let document = configuration.entries.isEmpty ? nil : Array(configuration.document.text.utf8)
        try await engine.setBucketDocument(bucket, name: NotificationConfiguration.documentName, document)
        try await settings.notificationChanged()
        return emptyResponse(.ok)
    }
}

/// The rules of every bucket's stored notification configuration, for the configuration in
/// effect (EventSettings.bucketRules).
public enum BucketNotificationRules {
    /// A document that no longer parses, or an ARN whose sink was removed, is skipped and reported
    /// in `problems` (the rest of the bucket's configuration still applies).
    public static func all(engine: Engine, events: EventSettings, region: String) throws -> (
        rules: [String: [BucketNotificationRule]], problems: [String]
    ) {
        var all: [String: [BucketNotificationRule]] = [:]
        var problems: [String] = []
        for (name, bucket) in try engine.listBuckets() {
            guard let document = bucket.document(NotificationConfiguration.documentName) else { continue }
            do {
                let found = try NotificationConfiguration(xml: document).rules(events, region: region)
                if !found.rules.isEmpty { all[name] = found.rules }
                for arn in found.unknownARNs {
                    problems.append(
                        "bucket \(name): its notification configuration names \(arn), which is no configured event sink; that part is not applied"
                    )
                }
            } catch {
                problems.append(
                    "bucket \(name): its stored notification configuration does not parse (\(error)); it is not applied")
            }
        }
        return (all, problems)
    }
}
