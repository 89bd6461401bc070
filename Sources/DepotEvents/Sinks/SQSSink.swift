import AsyncHTTPClient
import DepotConfig
import DepotHashing
import DepotSigV4
import Glibc
import NIOCore
import NIOHTTP1
import Synchronization

/// Amazon SQS (or any SQS-compatible queue) through its query API, signed with the project's
/// one SigV4 implementation. One message is a SendMessage; a backlog goes out ten at a time
/// with SendMessageBatch, and a batch counts as delivered only if no entry failed. The queue URL
/// is configured, or looked up once by name with GetQueueUrl.
final class SQSSink: EventSink {
    let settings: SinkSettings
    let client: HTTPClient
    let signer: SigV4Signer
    private let resolvedURL = Mutex<String?>(nil)

    init(settings: SinkSettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
        signer = SigV4Signer(
            credentials: SigV4Credentials(accessKey: settings.accessKey, secretKey: settings.secretKey),
            region: settings.region, service: "sqs")
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
        let bytes = Array(body.utf8)
        let (host, path) = Self.split(url)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let contentType = "application/x-www-form-urlencoded; charset=utf-8"
        let signed = try signer.sign(
            SigV4Request(method: "POST", rawPath: path, headers: [("host", host), ("content-type", contentType)]),
            payloadHash: PayloadHash(body: bytes).value, time: Int(now.tv_sec))
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "content-type", value: contentType)
        for (name, value) in signed { request.headers.add(name: name, value: value) }
        request.body = .bytes(ByteBuffer(bytes: bytes))
        let response = try await client.execute(request, timeout: .seconds(Int64(settings.timeout)))
        let reply = String(buffer: try await response.body.collect(upTo: 1 << 20))
        guard response.status.code == 200 else {
            if response.status.code == 400 && reply.contains("NonExistentQueue") { resolvedURL.withLock { $0 = nil } }
            throw EventSinkError("SQS \(parameters["Action"] ?? ""): HTTP \(response.status.code) \(reply.prefix(300))")
        }
        return reply
    }

    /// Host (with port) and path of a URL.
    static func split(_ url: String) -> (host: String, path: String) {
        let rest = url.split(separator: "/", maxSplits: 2, omittingEmptySubsequences: false)
        // ["http:", "", "host:port/path..."]
        guard rest.count == 3 else { return ("", "/") }
        let hostAndPath = rest[2]
        if let slash = hostAndPath.firstIndex(of: "/") {
            return (String(hostAndPath[..<slash]), String(hostAndPath[slash...]))
        }
        return (String(hostAndPath), "/")
    }
}
