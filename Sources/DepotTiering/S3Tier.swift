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

    /// A sealed copy carries no content type, header metadata or user metadata of the object
    /// (they stay with Depot), only Depot's own `depot-*` entries and `depot-sealed-copy`.
    private func metadataHeaders(_ record: ObjectRecord, sealed: Bool = false) -> [(String, String)] {
        var headers: [(String, String)] = [("content-type", sealed ? "application/octet-stream" : record.contentType)]
        if !sealed { for (name, value) in record.headerMetadata { headers.append((name, value)) } }
        for (name, value) in record.replicatedMetadata where !sealed || name.hasPrefix("depot-") {
            headers.append(("x-amz-meta-" + name, value))
        }
        if sealed { headers.append(("x-amz-meta-depot-sealed-copy", SealedCopy.format)) }
        // The tier's own encryption at rest (tiers[].serverSideEncryption).
        headers += settings.serverSideEncryption?.headers ?? []
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
        try await upload(reader.record, body: .plaintext(reader), remote: settings.remoteKey(bucket: bucket, key: key))
    }

    /// The object's ciphertext as a sealed copy (DepotEngine SealedCopy.swift).
    public func uploadSealed(_ reader: ObjectReader, trailer: [UInt8], bucket: String, key: String) async throws {
        try await upload(
            reader.record, body: .sealed(reader, trailer: trailer), remote: settings.remoteKey(bucket: bucket, key: key))
    }

    private func upload(_ record: ObjectRecord, body: TierBody, remote: String) async throws {
        if body.size > UInt64(settings.multipartThreshold) {
            try await multipartUpload(record, body: body, remote: remote)
        } else {
            try await singleUpload(record, body: body, remote: remote)
        }
    }

    /// Whether the store's ETag is the MD5 of what it received: not under SSE-KMS, where AWS
    /// answers another value (Content-MD5 still makes the store check the bytes).
    private var etagIsMD5: Bool { !(settings.serverSideEncryption?.isKMS ?? false) }

    private func singleUpload(_ record: ObjectRecord, body: TierBody, remote: String) async throws {
        var headers = metadataHeaders(record, sealed: body.isSealed)
        headers.append(("content-length", String(body.size)))
        // A plaintext multipart object's MD5 is not known without reading it; a sealed copy's is read once.
        let md5 = body.isSealed ? try await body.md5() : body.knownMD5
        if let md5 { headers.append(("content-md5", Base64.encode(md5))) }
        let stream = HTTPClientRequest.Body.stream(body.pieces(0..<body.size), length: .known(Int64(body.size)))
        let response = try await send(.PUT, key: remote, headers: headers, body: stream)
        guard response.status == 200 else {
            throw TierError.refused(
                "PUT \(remote): HTTP \(response.status) \(errorText(response.body))", status: Int(response.status))
        }
        if let md5, etagIsMD5 {
            let returned = response.headers.first(name: "etag")?.replacingQuotes() ?? ""
            guard returned == Hex.encode(md5) else {
                throw TierError("PUT \(remote): the store's ETag \(returned) is not the MD5 of what was sent")
            }
        }
    }

    private func multipartUpload(_ record: ObjectRecord, body tierBody: TierBody, remote: String) async throws {
        let created = try await send(
            .POST, key: remote, query: "uploads=", headers: metadataHeaders(record, sealed: tierBody.isSealed))
        guard created.status == 200, let uploadId = xmlValue("UploadId", in: created.body) else {
            throw TierError.refused(
                "CreateMultipartUpload \(remote): HTTP \(created.status) \(errorText(created.body))",
                status: Int(created.status))
        }
        let encodedId = SigV4Encoding.encode(uploadId)
        do {
            let partSize = UInt64(settings.partSize)
            let count = Int((tierBody.size + partSize - 1) / partSize)
            let etagIsMD5 = self.etagIsMD5
            var etags = [String](repeating: "", count: count)
            let parallel = max(1, min(4, settings.concurrency))
            try await withThrowingTaskGroup(of: (Int, String).self) { group in
                var next = 0
                func addPart() {
                    let index = next
                    next += 1
                    group.addTask {
                        let start = UInt64(index) * partSize
                        let end = min(tierBody.size, start + partSize)
                        let md5 = StreamingDigest(.md5)
                        for try await buffer in tierBody.pieces(start..<end) {
                            buffer.withUnsafeReadableBytes { md5.update($0) }
                        }
                        let digest = md5.finalize()
                        let body = HTTPClientRequest.Body.stream(
                            tierBody.pieces(start..<end), length: .known(Int64(end - start)))
                        let response = try await send(
                            .PUT, key: remote, query: "partNumber=\(index + 1)&uploadId=\(encodedId)",
                            headers: [("content-length", String(end - start)), ("content-md5", Base64.encode(digest))], body: body
                        )
                        guard response.status == 200, let etag = response.headers.first(name: "etag")?.replacingQuotes(),
                            etag == Hex.encode(digest) || !etagIsMD5
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
            if etagIsMD5, let returned = xmlValue("ETag", in: completed.body)?.replacingQuotes(), returned != expected {
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
