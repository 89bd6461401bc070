import AsyncHTTPClient
import DepotConfig
import DepotEngine
import DepotHashing
import DepotSignedHTTP
import Logging
import NIOCore
import NIOHTTP1

/// A remote Kerberos Vault, or another Depot's Vault API: recordings are forwarded as a Kerberos
/// Agent uploads them (tus 1.0.0 at `{endpoint}/storage/tus/`, in `chunkSize` PATCHes, with the
/// account and camera headers), so chained sites (edge → region → HQ) work with Depot or Vault at
/// either end. The upload resumes after a restart of either side (VaultTusUpload.swift). Copies
/// are read back with `GET {endpoint}/storage/blob` and deleted with `DELETE {endpoint}/storage`,
/// the Vault consumer API, both naming the recording by `X-Kerberos-Storage-FileName`.
///
/// The Vault API keys a recording `{directory}/{filename}`: the remote key's last `/` splits it
/// (a key without one cannot be sent; the tier's `prefix` can give every key a directory).
public struct VaultTier: TierClient {
    public let settings: TierSettings
    let client: HTTPClient
    let sessions: VaultUploadSessions
    let logger: Logger

    public init(settings: TierSettings, client: HTTPClient, engine: Engine, logger: Logger) {
        self.settings = settings
        self.client = client
        self.sessions = VaultUploadSessions(engine: engine)
        self.logger = logger
    }

    /// The object's user metadata that travels as Vault upload fields, and the field each fills:
    /// what Depot's own Vault API stores for an agent's headers (VaultUpload.swift), so a
    /// recording forwarded from Depot to Depot arrives with the metadata it had.
    static let carriedMetadata: [(field: String, header: String, metadata: String)] = [
        ("device", "Device", "productid"), ("cloudkey", "CloudKey", "publickey"), ("capture", "Capture", "capture"),
        ("fps", "Fps", "fps"), ("duration", "Duration", "duration"), ("timestamp", "Timestamp", "event-timestamp-ms"),
    ]

    /// Where a remote key goes in the Vault API: its directory and file name.
    static func split(_ remoteKey: String) throws -> (directory: String, filename: String) {
        guard let slash = remoteKey.lastIndex(of: "/"), slash != remoteKey.startIndex,
            remoteKey.index(after: slash) != remoteKey.endIndex
        else {
            throw TierError(
                "the Vault API stores {directory}/{filename}, and \(remoteKey) has no directory or no file name "
                    + "(the tier's prefix, e.g. site-a/, gives every key a directory)", permanent: true)
        }
        guard isHeaderSafe(remoteKey) else {
            throw TierError("\(remoteKey) has control characters, which a Vault header cannot carry", permanent: true)
        }
        return (String(remoteKey[..<slash]), String(remoteKey[remoteKey.index(after: slash)...]))
    }

    static func isHeaderSafe(_ value: String) -> Bool { !value.utf8.contains { $0 < 0x20 || $0 == 0x7F } }

    /// The account headers every request carries, and the provider when one is configured.
    var accountHeaders: [(String, String)] {
        var headers = [
            ("X-Kerberos-Storage-AccessKey", settings.accessKey), ("X-Kerberos-Storage-SecretAccessKey", settings.secretKey),
        ]
        if !settings.provider.isEmpty { headers.append(("X-Kerberos-Storage-Provider", settings.provider)) }
        return headers
    }

    /// The fields of a recording's upload (tus `Upload-Metadata` keys), empty ones left out.
    func uploadFields(_ record: ObjectRecord, directory: String, filename: String) -> [(String, String)] {
        var fields = [("filename", filename), ("directory", directory), ("provider", settings.provider)]
        for carried in Self.carriedMetadata {
            let value = record.userMetadata.first { $0.0 == carried.metadata }?.1 ?? ""
            fields.append((carried.field, value))
        }
        return fields.filter { !$0.1.isEmpty }
    }

    func request(_ method: HTTPMethod, _ path: String, headers: [(String, String)] = []) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: settings.endpoint + path)
        request.method = method
        for (name, value) in accountHeaders + headers { request.headers.add(name: name, value: value) }
        return request
    }

    func send(_ request: HTTPClientRequest, timeout: TimeAmount = .seconds(30)) async throws -> HTTPReply {
        try await client.fetch(request, timeout: timeout, bodyLimit: 64 << 10)
    }

    /// A Vault error body is `{"data": "…"}`; shown as text, shortened.
    static func errorText(_ reply: HTTPReply) -> String { String(decoding: reply.body.prefix(300), as: UTF8.self) }

    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        var request = request(.GET, "/storage/blob", headers: [("X-Kerberos-Storage-FileName", remote)])
        if !range.isEmpty { request.headers.add(name: "range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)") }
        let download = VaultBlobDownload(
            what: "GET /storage/blob \(remote)", range: range, client: client, request: request,
            headerSafe: Self.isHeaderSafe(remote))
        return AsyncThrowingStream(unfolding: { try await download.next() })
    }

    public func delete(bucket: String, key: String) async throws {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        guard Self.isHeaderSafe(remote) else { return }  // never sent, so never there
        let reply = try await send(request(.DELETE, "/storage", headers: [("X-Kerberos-Storage-FileName", remote)]))
        // 404: not there (never sent, or removed on the remote already).
        guard [200, 204, 404].contains(reply.status) else {
            throw TierError("DELETE /storage \(remote): HTTP \(reply.status) \(Self.errorText(reply))")
        }
    }

    /// The credentials (`POST /ping`) and the tus endpoint (`OPTIONS /storage/tus/`, which must
    /// speak tus 1.0.0). No probe recording is written: on a Vault it would reach the remote
    /// account's integrations as a real recording.
    public func check() async throws {
        let ping = try await send(request(.POST, "/ping"))
        guard ping.status == 200 else {
            throw TierError("POST \(settings.endpoint)/ping: HTTP \(ping.status) \(Self.errorText(ping))")
        }
        let options = try await send(request(.OPTIONS, "/storage/tus/"))
        let versions = options.headers.first(name: "tus-version") ?? ""
        guard (200...299).contains(options.status), versions.contains("1.0.0") else {
            throw TierError(
                "OPTIONS \(settings.endpoint)/storage/tus/: HTTP \(options.status), Tus-Version \"\(versions)\": "
                    + "the remote does not offer tus 1.0.0 uploads")
        }
    }
}

/// A ranged read of a recording from the remote Vault, as its reader takes it. Depot's Vault
/// answers a Range with 206; a Vault that ignores it answers 200 with the whole recording, of
/// which only the asked range is passed on (the bytes before it read and dropped).
private final class VaultBlobDownload: @unchecked Sendable {
    let what: String
    let client: HTTPClient
    let request: HTTPClientRequest
    let headerSafe: Bool
    private var started: Bool
    private var skip: UInt64 = 0
    private var left: UInt64
    private var body: HTTPClientResponse.Body.AsyncIterator?

    init(what: String, range: Range<UInt64>, client: HTTPClient, request: HTTPClientRequest, headerSafe: Bool) {
        self.what = what
        self.client = client
        self.request = request
        self.headerSafe = headerSafe
        self.started = range.isEmpty
        self.left = UInt64(range.count)
        self.skip = range.lowerBound
    }

    func next() async throws -> [UInt8]? {
        if !started {
            started = true
            guard headerSafe else { throw TierError("\(what): the name cannot be sent in a header") }
            let response = try await client.execute(request, timeout: .seconds(600))
            switch response.status.code {
            case 206: skip = 0
            case 200: break
            default: throw TierError("\(what): HTTP \(response.status.code)")
            }
            body = response.body.makeAsyncIterator()
        }
        while left > 0, var iterator = body {
            guard var buffer = try await iterator.next() else {
                throw TierError("\(what): the remote ended the body \(left) bytes early")
            }
            body = iterator
            let dropped = Int(min(UInt64(buffer.readableBytes), skip))
            buffer.moveReaderIndex(forwardBy: dropped)
            skip -= UInt64(dropped)
            let taken = Int(min(UInt64(buffer.readableBytes), left))
            guard taken > 0 else { continue }
            left -= UInt64(taken)
            return Array(buffer.readableBytesView.prefix(taken))
        }
        body = nil
        return nil
    }
}
