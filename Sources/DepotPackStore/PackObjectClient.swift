import AsyncHTTPClient
import DepotHashing
import DepotSigV4
import DepotSignedHTTP
import DepotStorage
import Dispatch
import Glibc
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// A failed exchange with the object store, naming the request; `transient` when trying again
/// may succeed (no connection, no answer in time, 5xx, 429, 409 on a conditional PUT).
public struct PackStoreError: ChunkStoreFailure, Sendable {
    public let description: String
    public let transient: Bool
    public var isTransient: Bool { transient }

    init(_ description: String, transient: Bool) {
        self.description = description
        self.transient = transient
    }
}

/// The pack store's requests to the object store, signed by the project's one signed client
/// (`SignedHTTPClient.prepare`, SigV4, path-style URLs) and sent on AsyncHTTPClient's
/// future-based API on an event loop of the store's own.
///
/// Why not the async API: `ChunkStore`'s calls are synchronous and may be made on the
/// cooperative pool's few threads. Waiting there for an `await` that needs those same threads to
/// resume could stall every reader until the timeout; a future completed on the store's own
/// event loop thread needs nothing from the caller's pool. Every wait here has a deadline.
final class PackObjectClient: Sendable {
    let settings: PackStoreSettings
    private let group: MultiThreadedEventLoopGroup
    private let http: HTTPClient
    private let signed: SignedHTTPClient
    private let endpoint: HTTPEndpoint
    private let closed = Atomic<Bool>(false)
    /// Requests sent, by kind (each attempt counts): what tests and metrics read.
    let getsSent = Atomic<Int>(0)
    let putsSent = Atomic<Int>(0)

    init(settings: PackStoreSettings) {
        self.settings = settings
        group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let connect = TimeAmount.nanoseconds(Int64(settings.connectTimeoutSeconds * 1e9))
        http = HTTPClient(eventLoopGroup: group, configuration: HTTPClient.Configuration(timeout: .init(connect: connect)))
        signed = SignedHTTPClient(
            credentials: SigV4Credentials(accessKey: settings.accessKey, secretKey: settings.secretKey),
            region: settings.region, service: "s3", client: http)
        var endpoint = HTTPEndpoint(url: settings.endpoint)
        endpoint.path = ""
        self.endpoint = endpoint
    }

    /// Stops the client and its event loop; requests after this fail at once. It does not wait
    /// (callbacks on a dispatch queue), so it is safe from any thread, an event loop's included:
    /// the store may be let go wherever the engine's last reference goes.
    func shutdown() {
        guard !closed.exchange(true, ordering: .acquiringAndReleasing) else { return }
        let group = self.group
        http.shutdown(queue: .global()) { _ in group.shutdownGracefully(queue: .global()) { _ in } }
    }

    struct Reply {
        var status: UInt
        var headers: HTTPHeaders
        var body: ByteBuffer?
    }

    /// One signed request to `key` in the bucket (the bucket itself for an empty key), waited for
    /// at most the request timeout.
    func send(
        _ method: HTTPMethod, key: String, query: String = "", headers: [SigV4Header] = [], body: ByteBuffer? = nil,
        bodyLimit: Int
    ) throws -> Reply {
        let what = "\(method) \(key.isEmpty ? settings.bucket : key)"
        guard !closed.load(ordering: .relaxed) else {
            throw PackStoreError("\(what): the chunk store is shut down", transient: false)
        }
        let path = "/" + settings.bucket + (key.isEmpty ? "" : "/" + SigV4Encoding.encode(key, keepSlash: true))
        let request: HTTPClient.Request
        do {
            let prepared = try signed.prepare(
                SignedRequest(method, endpoint, path: path, query: query, headers: headers, body: .unsignedEmpty))
            request = try HTTPClient.Request(
                url: prepared.url, method: prepared.method, headers: prepared.headers, body: body.map { .byteBuffer($0) })
        } catch {
            throw PackStoreError("\(what): cannot build the request: \(error)", transient: false)
        }
        if method == .GET { getsSent.add(1, ordering: .relaxed) }
        if method == .PUT { putsSent.add(1, ordering: .relaxed) }
        let timeout = settings.requestTimeoutSeconds
        let task = http.execute(
            request: request, delegate: ResponseAccumulator(request: request, maxBodySize: bodyLimit),
            deadline: .now() + .nanoseconds(Int64(timeout * 1e9)))
        let outcome = Outcome()
        task.futureResult.whenComplete { outcome.finish($0) }
        // The deadline above ends the exchange; this bound only guards against a lost callback.
        guard let result = outcome.wait(seconds: timeout + 2) else {
            task.cancel()
            throw PackStoreError("\(what): no answer within \(timeout) s", transient: true)
        }
        switch result {
        case .success(let response):
            return Reply(status: response.status.code, headers: response.headers, body: response.body)
        case .failure(let error as ResponseAccumulator.ResponseTooBigError):
            throw PackStoreError("\(what): the answer is longer than \(error.maxBodySize) bytes", transient: false)
        case .failure(let error):
            throw PackStoreError("\(what): \(error)", transient: true)
        }
    }

    /// Runs `attempt` until it succeeds, fails for good, or has used `settings.attempts`, with
    /// exponential backoff (jittered, capped at 2 s) between attempts.
    func withRetries<T>(_ attempt: () throws -> T) throws -> T {
        var delay = settings.retryBaseDelaySeconds
        var tries = 1
        while true {
            do {
                return try attempt()
            } catch let error as PackStoreError where error.transient && tries < settings.attempts {
                let jitter = 0.5 + Double(UInt8.random(in: 0...255)) / 512
                usleep(UInt32(min(delay, 2) * jitter * 1e6))
                delay *= 2
                tries += 1
            }
        }
    }

    /// Builds the error for an answer that is not the one expected.
    static func refusal(_ what: String, _ reply: Reply) -> PackStoreError {
        let body = reply.body.map { String(buffer: $0) } ?? ""
        let code = xmlValue("Code", in: body).map { " \($0)" } ?? ""
        let transient = reply.status >= 500 || reply.status == 429 || reply.status == 409
        return PackStoreError("\(what): HTTP \(reply.status)\(code)", transient: transient)
    }

    enum PutOutcome { case stored, nameTaken }

    /// Stores a sealed pack under its key, never over an existing object (`If-None-Match: *`).
    /// The store checks the bytes against Content-MD5 and its ETag must be that MD5. A 412 is
    /// either this pack stored by an earlier attempt whose answer was lost (its ETag is our
    /// MD5: stored) or another writer's pack under the same name (`nameTaken`).
    func putPack(_ pack: PackId, bytes: ByteBuffer) throws -> PutOutcome {
        let key = pack.objectKey(prefix: settings.prefix)
        let md5 = bytes.withUnsafeReadableBytes { DigestAlgorithm.md5.hash($0) }
        let md5Hex = Hex.encode(md5)
        return try withRetries {
            let reply = try send(
                .PUT, key: key,
                headers: [
                    ("content-md5", Base64.encode(md5)), ("content-type", "application/octet-stream"),
                    ("if-none-match", "*"), ("x-amz-meta-depot-node", settings.node),
                ], body: bytes, bodyLimit: 64 << 10)
            switch reply.status {
            case 200:
                let etag = Self.unquoted(reply.headers.first(name: "etag") ?? "")
                guard etag == md5Hex else {
                    throw PackStoreError("PUT \(key): the store's ETag \(etag) is not the MD5 of the pack sent", transient: true)
                }
                return .stored
            case 412:
                return try storedETag(key) == md5Hex ? .stored : .nameTaken
            default:
                throw Self.refusal("PUT \(key)", reply)
            }
        }
    }

    /// An object's ETag (HEAD), nil when it does not exist.
    func storedETag(_ key: String) throws -> String? {
        let reply = try send(.HEAD, key: key, bodyLimit: 0)
        if reply.status == 404 { return nil }
        guard reply.status == 200 else { throw Self.refusal("HEAD \(key)", reply) }
        return Self.unquoted(reply.headers.first(name: "etag") ?? "")
    }

    /// Bytes `range` of a pack (a Range GET); fewer when the pack ends inside the range.
    func getRange(_ pack: PackId, _ range: Range<Int>) throws -> [UInt8] {
        let key = pack.objectKey(prefix: settings.prefix)
        return try withRetries {
            let reply = try send(
                .GET, key: key, headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")],
                bodyLimit: range.count)
            switch reply.status {
            case 206:
                return reply.body.map { Array($0.readableBytesView) } ?? []
            case 200 where range.lowerBound == 0:
                // A store that ignores Range sends the whole (small enough) pack.
                return reply.body.map { Array($0.readableBytesView.prefix(range.count)) } ?? []
            case 404:
                throw PackStoreError("GET \(key): the pack is missing from the store", transient: false)
            default:
                throw Self.refusal("GET \(key) bytes \(range)", reply)
            }
        }
    }

    /// Creates the bucket unless it exists (tests, `depot cluster init`).
    func createBucketIfMissing() throws {
        try withRetries {
            let reply = try send(.PUT, key: "", bodyLimit: 64 << 10)
            let body = reply.body.map { String(buffer: $0) } ?? ""
            let code = xmlValue("Code", in: body) ?? ""
            guard reply.status == 200 || code == "BucketAlreadyOwnedByYou" || code == "BucketAlreadyExists" else {
                throw Self.refusal("PUT bucket \(settings.bucket)", reply)
            }
        }
    }

    static func unquoted(_ etag: String) -> String {
        var text = Substring(etag)
        while text.first == "\"" { text = text.dropFirst() }
        while text.last == "\"" { text = text.dropLast() }
        return String(text)
    }
}

/// A future's result handed to a waiting thread.
private final class Outcome: @unchecked Sendable {
    private let semaphore = DispatchSemaphore(value: 0)
    private let result = Mutex<Result<HTTPClient.Response, Error>?>(nil)

    func finish(_ value: Result<HTTPClient.Response, Error>) {
        result.withLock { $0 = value }
        semaphore.signal()
    }

    func wait(seconds: Double) -> Result<HTTPClient.Response, Error>? {
        guard semaphore.wait(timeout: .now() + .nanoseconds(Int(seconds * 1e9))) == .success else { return nil }
        return result.withLock { $0 }
    }
}

func xmlValue(_ name: String, in text: String) -> String? {
    guard let open = text.firstRange(of: "<\(name)>"),
        let close = text[open.upperBound...].firstRange(of: "</\(name)>")
    else { return nil }
    return String(text[open.upperBound..<close.lowerBound])
}
