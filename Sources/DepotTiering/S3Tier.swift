import AsyncHTTPClient
import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotSignedHTTP
import NIOCore
import NIOHTTP1

/// AWS S3, MinIO, Ceph and other S3-compatible stores. Requests are signed with the project's
/// one SigV4 implementation; bodies stream from the segments; large objects go up as multipart
/// uploads with parallel parts. Every copy is verified: a single PUT carries Content-MD5 (the
/// store refuses a mismatch) and its returned ETag must be that MD5.
public struct S3Tier: TierClient {
    public let settings: TierSettings
    let http: SignedHTTPClient

    public init(settings: TierSettings, client: HTTPClient) {
        self.settings = settings
        http = SignedHTTPClient(
            credentials: SigV4Credentials(accessKey: settings.accessKey, secretKey: settings.secretKey),
            region: settings.region, service: "s3", client: client)
    }

    /// The endpoint (its host, or the bucket's virtual host) and the path for a key, path-style
    /// or virtual-host style.
    private func location(_ remoteKey: String) -> (endpoint: HTTPEndpoint, path: String) {
        var endpoint = HTTPEndpoint(url: settings.endpoint)
        endpoint.path = ""
        let encodedKey = SigV4Encoding.encode(remoteKey, keepSlash: true)
        if settings.pathStyle {
            return (endpoint, "/" + settings.bucket + (remoteKey.isEmpty ? "" : "/" + encodedKey))
        }
        endpoint.host = settings.bucket + "." + endpoint.host
        return (endpoint, "/" + encodedKey)
    }

    private func send(
        _ method: HTTPMethod, key: String, query: String = "", headers extra: [(String, String)] = [],
        body: HTTPClientRequest.Body? = nil, timeout: TimeAmount = .seconds(600)
    ) async throws -> HTTPReply {
        let (endpoint, path) = location(key)
        // Bodies go unsigned: an object streams from the segments once, its MD5 guards it.
        let request = SignedRequest(
            method, endpoint, path: path, query: query, headers: extra.map { ($0.0, $0.1) },
            body: body.map { .unsigned($0) } ?? .unsignedEmpty)
        return try await http.fetch(request, timeout: timeout, bodyLimit: 1 << 20)
    }

    private func metadataHeaders(_ record: ObjectRecord) -> [(String, String)] {
        var headers: [(String, String)] = [("content-type", record.contentType)]
        for (name, value) in record.headerMetadata { headers.append((name, value)) }
        for (name, value) in record.replicatedMetadata { headers.append(("x-amz-meta-" + name, value)) }
        // A bucket with Object Lock keeps the copy under the version's own retention and hold.
        if settings.objectLock {
            if let mode = record.lockModeName, let until = record.retainUntilText {
                headers.append(("x-amz-object-lock-mode", mode))
                headers.append(("x-amz-object-lock-retain-until-date", until))
            }
            if record.lock.legalHold { headers.append(("x-amz-object-lock-legal-hold", "ON")) }
        }
        return headers
    }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        if reader.record.size > UInt64(settings.multipartThreshold) {
            try await multipartUpload(reader, remote: remote)
        } else {
            try await singleUpload(reader, remote: remote)
        }
    }

    private func singleUpload(_ reader: ObjectReader, remote: String) async throws {
        let record = reader.record
        var headers = metadataHeaders(record)
        headers.append(("content-length", String(record.size)))
        let plainMD5 = record.etag.contains("-") ? nil : Hex.decode(record.etag)
        if let md5 = plainMD5 { headers.append(("content-md5", Base64.encode(md5))) }
        let body = HTTPClientRequest.Body.stream(
            ObjectPieces(reader: reader, range: 0..<record.size), length: .known(Int64(record.size)))
        let response = try await send(.PUT, key: remote, headers: headers, body: body)
        guard response.status == 200 else {
            throw TierError.refused(
                "PUT \(remote): HTTP \(response.status) \(errorText(response.body))", status: Int(response.status))
        }
        if let md5 = plainMD5 {
            let returned = response.headers.first(name: "etag")?.replacingQuotes() ?? ""
            guard returned == Hex.encode(md5) else {
                throw TierError("PUT \(remote): the store's ETag \(returned) is not the object's MD5")
            }
        }
    }

    private func multipartUpload(_ reader: ObjectReader, remote: String) async throws {
        let record = reader.record
        let created = try await send(.POST, key: remote, query: "uploads=", headers: metadataHeaders(record))
        guard created.status == 200, let uploadId = xmlValue("UploadId", in: created.body) else {
            throw TierError.refused(
                "CreateMultipartUpload \(remote): HTTP \(created.status) \(errorText(created.body))",
                status: Int(created.status))
        }
        let encodedId = SigV4Encoding.encode(uploadId)
        do {
            let partSize = UInt64(settings.partSize)
            let count = Int((record.size + partSize - 1) / partSize)
            var etags = [String](repeating: "", count: count)
            let parallel = max(1, min(4, settings.concurrency))
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var next = 0
                func addPart() {
                    let index = next
                    next += 1
                    group.addTask {
                        let start = UInt64(index) * partSize
                        let end = min(record.size, start + partSize)
                        let md5 = StreamingDigest(.md5)
                        for try await buffer in ObjectPieces(reader: reader, range: start..<end) {
                            buffer.withUnsafeReadableBytes { md5.update($0) }
                        }
                        let digest = md5.finalize()
                        let body = HTTPClientRequest.Body.stream(
                            ObjectPieces(reader: reader, range: start..<end), length: .known(Int64(end - start)))
                        let response = try await send(
                            .PUT, key: remote, query: "partNumber=\(index + 1)&uploadId=\(encodedId)",
                            headers: [("content-length", String(end - start)), ("content-md5", Base64.encode(digest))], body: body
                        )
                        guard response.status == 200, let etag = response.headers.first(name: "etag")?.replacingQuotes(),
                            etag == Hex.encode(digest)
                        else {
                            throw TierError(
                                "UploadPart \(index + 1) of \(remote): HTTP \(response.status) \(errorText(response.body))")
                        }
                        return (index, etag)
                    }
                }
                for _ in 0..<min(parallel, count) { addPart() }
                while let (index, etag) = try await group.next() {
                    etags[index] = etag
                    if next < count { addPart() }
                }
            }
            var xml = "<CompleteMultipartUpload>"
            for (i, etag) in etags.enumerated() {
                xml += "<Part><PartNumber>\(i + 1)</PartNumber><ETag>\"\(etag)\"</ETag></Part>"
            }
            xml += "</CompleteMultipartUpload>"
            let bytes = Array(xml.utf8)
            let completed = try await send(
                .POST, key: remote, query: "uploadId=\(encodedId)", headers: [("content-length", String(bytes.count))],
                body: .bytes(ByteBuffer(bytes: bytes)))
            guard completed.status == 200, xmlValue("Error", in: completed.body) == nil else {
                throw TierError("CompleteMultipartUpload \(remote): HTTP \(completed.status) \(errorText(completed.body))")
            }
            let expected = Hex.encode(DigestAlgorithm.md5.hash(etags.flatMap { Hex.decode($0) ?? [] })) + "-\(count)"
            if let returned = xmlValue("ETag", in: completed.body)?.replacingQuotes(), returned != expected {
                throw TierError("CompleteMultipartUpload \(remote): ETag \(returned), expected \(expected)")
            }
        } catch {
            _ = try? await send(.DELETE, key: remote, query: "uploadId=\(encodedId)")
            throw error
        }
    }

    public func download(bucket: String, key: String, range: Range<UInt64>) -> AsyncThrowingStream<[UInt8], Error> {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        let (endpoint, path) = location(remote)
        let request = SignedRequest(
            .GET, endpoint, path: path, headers: [("range", "bytes=\(range.lowerBound)-\(range.upperBound - 1)")])
        let http = self.http
        return rangedDownload("GET \(remote)", range: range) {
            try await http.execute(request, timeout: .seconds(600))
        }
    }

    public func delete(bucket: String, key: String) async throws {
        let remote = settings.remoteKey(bucket: bucket, key: key)
        let response = try await send(.DELETE, key: remote)
        guard response.status == 204 || response.status == 200 || response.status == 404 else {
            throw TierError("DELETE \(remote): HTTP \(response.status) \(errorText(response.body))")
        }
    }

    public func check() async throws {
        let probe = settings.prefix + ".depot-probe-" + Hex.encode(secureRandomBytes(4))
        let payload = Array("depot tier check".utf8)
        let put = try await send(
            .PUT, key: probe, headers: [("content-length", String(payload.count))], body: .bytes(ByteBuffer(bytes: payload)))
        guard put.status == 200 else {
            throw TierError("writing a probe object failed: HTTP \(put.status) \(errorText(put.body))")
        }
        let get = try await send(.GET, key: probe)
        guard get.status == 200, get.body == payload else { throw TierError("reading the probe back failed: HTTP \(get.status)") }
        let delete = try await send(.DELETE, key: probe)
        guard delete.status == 204 || delete.status == 200 else {
            throw TierError("deleting the probe failed: HTTP \(delete.status)")
        }
    }

    private func errorText(_ body: [UInt8]) -> String {
        let text = String(decoding: body.prefix(400), as: UTF8.self)
        return xmlValue("Code", in: body).map { "\($0): \(xmlValue("Message", in: body) ?? "")" } ?? text
    }
}

func xmlValue(_ name: String, in body: [UInt8]) -> String? {
    let text = String(decoding: body, as: UTF8.self)
    guard let open = text.range(of: "<\(name)>"), let close = text.range(of: "</\(name)>", range: open.upperBound..<text.endIndex)
    else { return nil }
    return String(text[open.upperBound..<close.lowerBound])
}

extension String {
    func replacingQuotes() -> String {
        var s = Substring(self)
        s = s.drop { $0 == "\"" }
        while s.last == "\"" { s = s.dropLast() }
        return String(s.replacingOccurrences(of: "&quot;", with: ""))
    }
}

extension Substring {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        var out = ""
        var rest = self
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
