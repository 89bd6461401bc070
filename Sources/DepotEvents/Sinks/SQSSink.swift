import AsyncHTTPClient
import DepotConfig
import DepotHashing
import DepotSigV4
import DepotSignedHTTP
import NIOCore
import NIOHTTP1
import Synchronization

/// Amazon SQS (or any SQS-compatible queue) through its query API, signed with the project's
/// one SigV4 implementation. One message is a SendMessage; a backlog goes out ten at a time
/// with SendMessageBatch, and a batch counts as delivered only if no entry failed. The queue URL
/// is configured, or looked up once by name with GetQueueUrl.
final class SQSSink: EventSink {
    let settings: SinkSettings
    let http: SignedHTTPClient
    private let resolvedURL = Mutex<String?>(nil)

    init(settings: SinkSettings, client: HTTPClient) {
        self.settings = settings
        http = SignedHTTPClient(
            credentials: SigV4Credentials(accessKey: settings.accessKey, secretKey: settings.secretKey),
            region: settings.region, service: "sqs", client: client)
        if !settings.queueURL.isEmpty { resolvedURL.withLock { $0 = settings.queueURL } }
    }

    func deliver(_ messages: [EventMessage]) async throws {
        let queue = try await queueURL()
        var index = 0
        while index < messages.count {
            let batch = Array(messages[index..<min(index + 10, messages.count)])
            if batch.count == 1 {
                let reply = try await call(
                    queue, ["Action": "SendMessage", "MessageBody": String(decoding: batch[0].body, as: UTF8.self)])
                guard reply.contains("<MessageId>") else {
                    throw EventSinkError("SendMessage: no MessageId in \(reply.prefix(200))")
                }
            } else {
                var parameters = ["Action": "SendMessageBatch"]
                for (i, message) in batch.enumerated() {
                    parameters["SendMessageBatchRequestEntry.\(i + 1).Id"] = "m\(message.sequence)"
                    parameters["SendMessageBatchRequestEntry.\(i + 1).MessageBody"] = String(
                        decoding: message.body, as: UTF8.self)
                }
                let reply = try await call(queue, parameters)
                // A batch with a failed entry is sent again whole: at least once, order kept.
                guard !reply.contains("<BatchResultErrorEntry>") else {
                    throw EventSinkError("SendMessageBatch: an entry failed: \(reply.prefix(300))")
                }
            }
            index += batch.count
        }
    }

    private func queueURL() async throws -> String {
        if let url = resolvedURL.withLock({ $0 }) { return url }
        let reply = try await call(settings.endpoint, ["Action": "GetQueueUrl", "QueueName": settings.queueName])
        guard let start = reply.range(of: "<QueueUrl>"), let end = reply.range(of: "</QueueUrl>") else {
            throw EventSinkError("GetQueueUrl \(settings.queueName): \(reply.prefix(200))")
        }
        let url = String(reply[start.upperBound..<end.lowerBound])
        resolvedURL.withLock { $0 = url }
        return url
    }

    /// POSTs a form-encoded query API request, signed over its body.
    private func call(_ url: String, _ parameters: [String: String]) async throws -> String {
        var all = parameters
        all["Version"] = "2012-11-05"
        let body = all.sorted { $0.key < $1.key }.map {
            SigV4Encoding.encode($0.key) + "=" + SigV4Encoding.encode($0.value)
        }.joined(separator: "&")
        let endpoint = HTTPEndpoint(url: url)
        let request = SignedRequest(
            .POST, endpoint, path: endpoint.path.isEmpty ? "/" : endpoint.path,
            headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")],
            body: .signed(Array(body.utf8)))
        let response = try await http.fetch(request, timeout: .seconds(Int64(settings.timeout)), bodyLimit: 1 << 20)
        let reply = response.text
        guard response.status == 200 else {
            if response.status == 400 && reply.contains("NonExistentQueue") { resolvedURL.withLock { $0 = nil } }
            throw EventSinkError("SQS \(parameters["Action"] ?? ""): HTTP \(response.status) \(reply.prefix(300))")
        }
        return reply
    }
}
