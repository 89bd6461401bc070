import AsyncHTTPClient
import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotSignedHTTP
import Foundation
import NIOCore
import NIOHTTP1

/// Google Cloud Storage through its JSON API (and emulators of it). Objects go up as resumable
/// uploads, one chunk (a multiple of 256 KiB) at a time straight from the segments, so a
/// dropped connection costs one chunk, not the recording; the final answer's size and MD5 must
/// match Depot's before the copy counts.
public struct GCSTier: TierClient {
    public let settings: TierSettings
    let client: HTTPClient
    let tokens: GCSAccessToken?

    public init(settings: TierSettings, client: HTTPClient) throws {
        self.settings = settings
        self.client = client
        tokens =
            settings.credentials.isEmpty
            ? nil
            : GCSAccessToken(key: try ServiceAccountKey(json: settings.credentials), tokenURI: settings.tokenURI, client: client)
    }

    private var base: String { settings.endpoint.hasSuffix("/") ? String(settings.endpoint.dropLast()) : settings.endpoint }

    /// An object name as one path segment: everything but unreserved characters encoded.
    static func encodeName(_ name: String) -> String { SigV4Encoding.encode(name) }

    private func authorize(_ request: inout HTTPClientRequest) async throws {
        if let tokens { request.headers.replaceOrAdd(name: "authorization", value: "Bearer " + (try await tokens.token())) }
    }

    private func send(
        _ method: HTTPMethod, _ url: String, headers: [(String, String)] = [], body: HTTPClientRequest.Body? = nil,
        timeout: TimeAmount = .seconds(600)
    ) async throws -> HTTPReply {
        var request = HTTPClientRequest(url: url)
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        try await authorize(&request)
        if let body { request.body = body }
        return try await client.fetch(request, timeout: timeout, bodyLimit: 4 << 20)
    }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let record = reader.record
        let name = settings.remoteKey(bucket: bucket, key: key)
        var resource: [String: Any] = ["name": name, "contentType": record.contentType]
        if !record.replicatedMetadata.isEmpty {
            resource["metadata"] = Dictionary(record.replicatedMetadata, uniquingKeysWith: { a, _ in a })
        }
        let start = try await send(
            .POST, "\(base)/upload/storage/v1/b/\(settings.bucket)/o?uploadType=resumable&name=\(Self.encodeName(name))",
            headers: [
                ("content-type", "application/json; charset=UTF-8"), ("x-upload-content-type", record.contentType),
                ("x-upload-content-length", String(record.size)),
            ],
            body: .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: resource))))
        guard start.status == 200, let session = start.headers.first(name: "location") else {
            throw TierError.refused(
                "starting a resumable upload of \(name) failed: HTTP \(start.status) \(Self.errorText(start.body))",
                status: Int(start.status))
        }
        var offset: UInt64 = 0
        var final: [UInt8] = []
        repeat {
            let end = min(record.size, offset + UInt64(settings.partSize))
            let range = record.size == 0 ? "bytes */0" : "bytes \(offset)-\(end - 1)/\(record.size)"
            let chunk = try await send(
                .PUT, session, headers: [("content-range", range), ("content-length", String(end - offset))],
                body: .stream(ObjectPieces(reader: reader, range: offset..<end), length: .known(Int64(end - offset))))
            if end < record.size {
                guard chunk.status == 308 else {
                    throw TierError(
                        "uploading \(name) bytes \(offset)-\(end - 1) failed: HTTP \(chunk.status) \(Self.errorText(chunk.body))")
                }
            } else {
                guard chunk.status == 200 || chunk.status == 201 else {
                    throw TierError("finishing the upload of \(name) failed: HTTP \(chunk.status) \(Self.errorText(chunk.body))")
                }
                final = chunk.body
            }
            offset = end
        } while offset < record.size
        try verify(final, record: record, name: name)
    }

    /// The stored object's size and MD5 against Depot's (the MD5 is the ETag of single-part
    /// objects; a multipart ETag is not an MD5, so only the size can be compared then).
    private func verify(_ body: [UInt8], record: ObjectRecord, name: String) throws {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] else {
            throw TierError("the upload of \(name) ended without the object's description")
        }
        let size = (object["size"] as? String).flatMap { UInt64($0) } ?? (object["size"] as? NSNumber)?.uint64Value
        guard size == record.size else {
            throw TierError("GCS stored \(size.map(String.init) ?? "?") bytes of \(name), not \(record.size)")
        }
        if !record.etag.contains("-"), let md5 = object["md5Hash"] as? String, let bytes = Base64.decode(md5) {
            guard Hex.encode(bytes) == record.etag else {
                throw TierError("GCS's MD5 of \(name) is \(Hex.encode(bytes)), Depot's is \(record.etag)")
            }
        }
    }

    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let name = settings.remoteKey(bucket: bucket, key: key)
        let url = "\(base)/download/storage/v1/b/\(settings.bucket)/o/\(Self.encodeName(name))?alt=media"
        let this = self
        return rangedDownload("GET \(name) from GCS", range: range) {
            var request = HTTPClientRequest(url: url)
            request.headers.add(name: "range", value: "bytes=\(range.lowerBound)-\(range.upperBound - 1)")
            try await this.authorize(&request)
            return try await this.client.execute(request, timeout: .seconds(600))
        }
    }

    public func delete(bucket: String, key: String) async throws {
        let name = settings.remoteKey(bucket: bucket, key: key)
        let reply = try await send(.DELETE, "\(base)/storage/v1/b/\(settings.bucket)/o/\(Self.encodeName(name))")
        guard [200, 204, 404].contains(reply.status) else {
            throw TierError("deleting \(name) from GCS failed: HTTP \(reply.status) \(Self.errorText(reply.body))")
        }
    }

    public func check() async throws {
        let name = settings.prefix + ".depot-probe-" + Hex.encode(secureRandomBytes(4))
        let payload = Array("depot tier check".utf8)
        let put = try await send(
            .POST, "\(base)/upload/storage/v1/b/\(settings.bucket)/o?uploadType=media&name=\(Self.encodeName(name))",
            headers: [("content-type", "text/plain")], body: .bytes(ByteBuffer(bytes: payload)))
        guard put.status == 200 else {
            throw TierError(
                "writing a probe object to bucket \(settings.bucket) failed: HTTP \(put.status) \(Self.errorText(put.body))")
        }
        let get = try await send(.GET, "\(base)/download/storage/v1/b/\(settings.bucket)/o/\(Self.encodeName(name))?alt=media")
        guard get.status == 200, get.body == payload else { throw TierError("reading the probe back failed: HTTP \(get.status)") }
        let delete = try await send(.DELETE, "\(base)/storage/v1/b/\(settings.bucket)/o/\(Self.encodeName(name))")
        guard delete.status == 204 || delete.status == 200 else {
            throw TierError("deleting the probe failed: HTTP \(delete.status) \(Self.errorText(delete.body))")
        }
    }

    /// GCS errors are JSON: `{"error": {"code", "message"}}`.
    static func errorText(_ body: [UInt8]) -> String {
        if let object = (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any],
            let error = object["error"] as? [String: Any], let message = error["message"] as? String
        {
            return message
        }
        return String(decoding: body.prefix(300), as: UTF8.self)
    }
}
