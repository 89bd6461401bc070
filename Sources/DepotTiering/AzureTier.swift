import AsyncHTTPClient
import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotSignedHTTP
import Foundation
import Glibc
import NIOCore
import NIOHTTP1

/// Azure Blob Storage (block blobs), with Shared Key or SAS authentication. Small objects go up
/// with one Put Blob carrying Content-MD5, which the service checks; larger ones as blocks
/// (several in flight) committed with Put Block List, then their size is checked. Metadata names
/// must be C# identifiers in Azure, so `-` in a name is sent as `_`.
public struct AzureTier: TierClient {
    public let settings: TierSettings
    let client: HTTPClient
    let sharedKey: AzureSharedKey?
    static let version = "2021-08-06"

    public init(settings: TierSettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
        sharedKey =
            settings.accountKey.isEmpty
            ? nil : AzureSharedKey(account: settings.account, key: Base64.decode(settings.accountKey) ?? [])
    }

    private var base: String { settings.endpoint.hasSuffix("/") ? String(settings.endpoint.dropLast()) : settings.endpoint }

    private func blobPath(_ name: String) -> String {
        let prefix = URLComponents(string: base)?.percentEncodedPath ?? ""
        return prefix + "/" + settings.bucket + "/" + SigV4Encoding.encode(name, keepSlash: true)
    }

    private func url(path: String, query: [(String, String)]) -> String {
        var parts = query.map { "\($0.0)=\(SigV4Encoding.encode($0.1, keepSlash: false))" }
        if sharedKey == nil && !settings.sas.isEmpty { parts.append(settings.sas) }
        let origin = base.replacingOccurrences(of: URLComponents(string: base)?.percentEncodedPath ?? "", with: "")
        return origin + path + (parts.isEmpty ? "" : "?" + parts.joined(separator: "&"))
    }

    private func send(
        _ method: HTTPMethod, name: String, query: [(String, String)] = [], headers extra: [(String, String)] = [],
        body: HTTPClientRequest.Body? = nil, timeout: TimeAmount = .seconds(600)
    ) async throws -> HTTPReply {
        let path = blobPath(name)
        var headers = extra
        headers.append(("x-ms-date", Self.httpDate()))
        headers.append(("x-ms-version", Self.version))
        if let sharedKey {
            headers.append(
                ("authorization", sharedKey.authorization(method: method.rawValue, path: path, query: query, headers: headers)))
        }
        var request = HTTPClientRequest(url: url(path: path, query: query))
        request.method = method
        for (name, value) in headers { request.headers.add(name: name, value: value) }
        if let body { request.body = body }
        return try await client.fetch(request, timeout: timeout, bodyLimit: 4 << 20)
    }

    private func metadataHeaders(_ record: ObjectRecord) -> [(String, String)] {
        record.replicatedMetadata.compactMap { name, value in
            let azureName = name.replacingOccurrences(of: "-", with: "_")
            guard let first = azureName.first, first.isLetter || first == "_",
                azureName.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" })
            else { return nil }
            return ("x-ms-meta-" + azureName, value)
        }
    }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let record = reader.record
        let name = settings.remoteKey(bucket: bucket, key: key)
        let md5 = record.etag.contains("-") ? nil : Hex.decode(record.etag).map { Base64.encode($0) }
        if record.size <= UInt64(settings.multipartThreshold) {
            var headers = [
                ("x-ms-blob-type", "BlockBlob"), ("content-length", String(record.size)), ("content-type", record.contentType),
            ]
            if let md5 { headers.append(("content-md5", md5)) }
            headers += metadataHeaders(record)
            let reply = try await send(
                .PUT, name: name, headers: headers,
                body: .stream(ObjectPieces(reader: reader, range: 0..<record.size), length: .known(Int64(record.size))))
            guard reply.status == 201 else {
                throw TierError.refused(
                    "Put Blob \(name): HTTP \(reply.status) \(Self.errorText(reply.body))", status: Int(reply.status))
            }
            return
        }
        let blockSize = UInt64(settings.partSize)
        let count = Int((record.size + blockSize - 1) / blockSize)
        let ids = (0..<count).map { Base64.encode(Array(String(format: "depot-block-%06d", $0).utf8)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            var next = 0
            // At most `concurrency` blocks in flight.
            func addBlock() {
                let index = next
                next += 1
                let start = UInt64(index) * blockSize
                let end = min(record.size, start + blockSize)
                group.addTask {
                    let reply = try await send(
                        .PUT, name: name, query: [("comp", "block"), ("blockid", ids[index])],
                        headers: [("content-length", String(end - start))],
                        body: .stream(ObjectPieces(reader: reader, range: start..<end), length: .known(Int64(end - start))))
                    guard reply.status == 201 else {
                        throw TierError("Put Block \(index) of \(name): HTTP \(reply.status) \(Self.errorText(reply.body))")
                    }
                }
            }
            for _ in 0..<min(count, max(1, settings.concurrency)) { addBlock() }
            while try await group.next() != nil {
                if next < count { addBlock() }
            }
        }
        let list =
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><BlockList>" + ids.map { "<Latest>\($0)</Latest>" }.joined()
            + "</BlockList>"
        var headers = [
            ("content-length", String(list.utf8.count)), ("content-type", "application/xml"),
            ("x-ms-blob-content-type", record.contentType),
        ]
        if let md5 { headers.append(("x-ms-blob-content-md5", md5)) }
        headers += metadataHeaders(record)
        let commit = try await send(
            .PUT, name: name, query: [("comp", "blocklist")], headers: headers, body: .bytes(ByteBuffer(string: list)))
        guard commit.status == 201 else {
            throw TierError("Put Block List \(name): HTTP \(commit.status) \(Self.errorText(commit.body))")
        }
        let properties = try await send(.HEAD, name: name)
        let length = properties.headers.first(name: "content-length").flatMap { UInt64($0) }
        guard properties.status == 200, length == record.size else {
            throw TierError(
                "Azure holds \(length.map(String.init) ?? "?") bytes of \(name) after the block list, not \(record.size)")
        }
    }

    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let name = settings.remoteKey(bucket: bucket, key: key)
        let this = self
        return rangedDownload("Get Blob \(name)", range: range) {
            let path = this.blobPath(name)
            var headers = [
                ("x-ms-range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)"), ("x-ms-date", Self.httpDate()),
                ("x-ms-version", Self.version),
            ]
            if let key = this.sharedKey {
                headers.append(("authorization", key.authorization(method: "GET", path: path, query: [], headers: headers)))
            }
            var request = HTTPClientRequest(url: this.url(path: path, query: []))
            for (n, v) in headers { request.headers.add(name: n, value: v) }
            return try await this.client.execute(request, timeout: .seconds(600))
        }
    }

    public func delete(bucket: String, key: String) async throws {
        let name = settings.remoteKey(bucket: bucket, key: key)
        let reply = try await send(.DELETE, name: name)
        guard [200, 202, 404].contains(reply.status) else {
            throw TierError("Delete Blob \(name): HTTP \(reply.status) \(Self.errorText(reply.body))")
        }
    }

    public func check() async throws {
        let name = settings.prefix + ".depot-probe-" + Hex.encode(secureRandomBytes(4))
        let payload = Array("depot tier check".utf8)
        let put = try await send(
            .PUT, name: name,
            headers: [
                ("x-ms-blob-type", "BlockBlob"), ("content-length", String(payload.count)), ("content-type", "text/plain"),
            ],
            body: .bytes(ByteBuffer(bytes: payload)))
        guard put.status == 201 else {
            throw TierError(
                "writing a probe blob to container \(settings.bucket) failed: HTTP \(put.status) \(Self.errorText(put.body))")
        }
        let get = try await send(.GET, name: name)
        guard get.status == 200, get.body == payload else { throw TierError("reading the probe back failed: HTTP \(get.status)") }
        let delete = try await send(.DELETE, name: name)
        guard delete.status == 202 || delete.status == 200 else {
            throw TierError("deleting the probe failed: HTTP \(delete.status) \(Self.errorText(delete.body))")
        }
    }

    /// Azure errors are XML with a `Code` and a `Message`.
    static func errorText(_ body: [UInt8]) -> String {
        xmlValue("Code", in: body).map { "\($0): \(xmlValue("Message", in: body) ?? "")" }
            ?? String(decoding: body.prefix(300), as: UTF8.self)
    }

    /// `Tue, 25 Nov 2026 05:00:00 GMT`.
    static func httpDate() -> String {
        var seconds = time(nil)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        var buffer = [Int8](repeating: 0, count: 64)
        let n = strftime(&buffer, buffer.count, "%a, %d %b %Y %H:%M:%S GMT", &parts)
        return String(decoding: buffer.prefix(n).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
