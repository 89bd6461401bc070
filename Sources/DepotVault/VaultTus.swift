import DepotConfig
import DepotEngine
import DepotHashing
import DepotObjectBody
import DepotStorage
import HTTPTypes
import HummingbirdCore
import NIOCore

/// tus 1.0.0 (creation, termination, expiration) at `/api/storage/tus/`, on the engine's
/// multipart uploads: every PATCH becomes one part, so what was received survives a restart and
/// any process on the same data answers the same offset. A PATCH that breaks off keeps the bytes
/// that arrived, as tusd does; the agent asks HEAD for the offset and continues from there.
extension VaultService {
    static let tusExtensions = "creation,termination,expiration"

    func tus(_ request: Request, path: String) async throws -> Response {
        var headers = HTTPFields()
        headers[.init("Tus-Resumable")!] = "1.0.0"
        let rest = path.dropFirst("/api/storage/tus".count).split(separator: "/").map(String.init)
        if request.method == .options {
            headers[.init("Tus-Version")!] = "1.0.0"
            headers[.init("Tus-Extension")!] = Self.tusExtensions
            headers[.init("Tus-Max-Size")!] = String(maxUploadSize)
            return Response(status: .noContent, headers: headers, body: ResponseBody())
        }
        let account = try authenticate(request)
        if rest.isEmpty {
            guard request.method == .post else { throw VaultError(.methodNotAllowed, "use POST to create an upload") }
            return try await create(request, account: account, headers: headers)
        }
        guard rest.count == 1 else { throw VaultError(.notFound, "no such upload") }
        let id = rest[0]
        guard let upload = try engine.upload(id), upload.metadata.owner == account.accessKey,
            let length = upload.extra.first(where: { $0.0 == "tus-length" }).flatMap({ UInt64($0.1) })
        else { throw VaultError(.notFound, "no upload \(id)") }
        // Asked again on every request on the upload (HEAD, PATCH, DELETE): an upload outliving a
        // narrowing of the grants or a new Deny is neither continued, inspected nor ended by it.
        try authorizeTusRequest(request.method, by: account, bucket: upload.bucket, key: upload.key)
        // A PATCH or DELETE has the upload to itself from before its offset is read to its answer.
        let exclusive = request.method == .patch || request.method == .delete
        if exclusive, try await !tusLocks.tryLock(id) {
            throw VaultError(
                .init(code: 423, reasonPhrase: "Locked"),
                "another PATCH or DELETE of upload \(id) is in progress; retry when it has ended (HEAD gives the offset)")
        }
        // (A defer cannot await: every way out of the switch below passes through `answer`.)
        let answer: Result<Response, any Error>
        do {
            answer = .success(
                try await tusLocked(request, id: id, upload: upload, length: length, account: account, headers: headers))
        } catch {
            answer = .failure(error)
        }
        if exclusive { await tusLocks.unlock(id) }
        return try answer.get()
    }

    /// HEAD, PATCH or DELETE of upload `id`, a PATCH or DELETE with the upload's lock held.
    private func tusLocked(
        _ request: Request, id: String, upload: UploadRecord, length: UInt64, account: Account, headers base: HTTPFields
    ) async throws -> Response {
        var headers = base
        let parts = try engine.listParts(uploadId: id, limit: Self.tusPatchLimit).parts

        headers[.init("Upload-Expires")!] = httpDate(seconds: upload.created / 1000 + uploadExpiry)
        let offset = parts.reduce(UInt64(0)) { $0 + $1.size }
        switch request.method {
        case .head:
            headers[.init("Upload-Offset")!] = String(offset)
            headers[.init("Upload-Length")!] = String(length)
            headers[.cacheControl] = "no-store"
            return Response(status: .ok, headers: headers, body: ResponseBody())
        case .delete:
            try await engine.abortUpload(uploadId: id)
            return Response(status: .noContent, headers: headers, body: ResponseBody())
        case .patch:
            let forwarding = provider(named: upload.extra.first { $0.0 == "vault-provider" }?.1, of: account)
            return try await patch(
                request, id: id, offset: offset, length: length, nextPart: (parts.last?.number ?? 0) + 1, headers: headers,
                forwarding: forwarding.map { ($0, upload.bucket, upload.key) })
        default:
            throw VaultError(.methodNotAllowed, "tus uploads take HEAD, PATCH and DELETE")
        }
    }

    private func create(_ request: Request, account authenticated: Account, headers base: HTTPFields) async throws -> Response {
        let length = try TusHeaders.creationLength(
            uploadLength: Self.header(request, "Upload-Length"), deferLength: Self.header(request, "Upload-Defer-Length"),
            maxSize: maxUploadSize)
        var values = RecordingName.uploadMetadata(Self.header(request, "Upload-Metadata") ?? "")
        for (name, value) in headerValues(request) where values[name] == nil { values[name] = value }
        let (account, provider) = try route(authenticated, provider: values["provider"])
        if let provider { values["provider"] = provider.name }
        guard let filename = values["filename"], !filename.isEmpty else {
            throw VaultError(.badRequest, "the filename is missing from Upload-Metadata and X-Kerberos-Storage-FileName")
        }
        let key = try objectKey(account: account, directory: values["directory"], filename: filename)
        try authorize(account, .write, bucket: account.vault!.bucket, key: key)
        var metadata = recordingMetadata(account: account, filename: filename, values: values)
        metadata.systemMetadata += try recordingLockRequest(account: account)
        // Every part follows the bucket's default encryption chosen here (startUploadPart).
        metadata.systemMetadata = ObjectRecord.replacingEncryption(
            metadata.systemMetadata, with: try engine.defaultEncryption(ofBucket: account.vault!.bucket))
        // 507 (space) or 403 (quota) now, not after PATCHes filled the device or the quota
        try engine.admitUpload(declaredBytes: length, owner: account.accessKey, bucket: account.vault!.bucket, key: key)
        let id = try await engine.createUpload(
            UploadRecord(
                bucket: account.vault!.bucket, key: key, created: Engine.now(), metadata: metadata,
                extra: [("tus-length", String(length)), ("tus-filename", filename)]
                    + (provider.map { [("vault-provider", $0.name)] } ?? [])))
        if let device = values["device"], !device.isEmpty { try await engine.bindDevice(device, owner: account.accessKey) }
        var headers = base
        headers[.location] = "/api/storage/tus/" + id
        headers[.init("Upload-Expires")!] = httpDate(seconds: Engine.now() / 1000 + uploadExpiry)
        return Response(status: .created, headers: headers, body: ResponseBody())
    }

    private func patch(
        _ request: Request, id: String, offset: UInt64, length: UInt64, nextPart: Int, headers base: HTTPFields,
        forwarding: (provider: VaultProvider, bucket: String, key: String)?
    ) async throws -> Response {
        guard request.headers[.contentType]?.lowercased() == "application/offset+octet-stream" else {
            throw VaultError(.unsupportedMediaType, "PATCH needs Content-Type: application/offset+octet-stream")
        }
        let declared = try TusHeaders.patchBodyLength(
            uploadOffset: Self.header(request, "Upload-Offset"), contentLength: request.headers[.contentLength],
            offset: offset, length: length)
        if let declared { try engine.admitUpload(declaredBytes: declared) }  // 507 before the body is read
        try checkPatchLimit(parts: nextPart - 1, declared: declared, remaining: length - offset)
        let session = try await engine.startUploadPart(uploadId: id, number: nextPart)
        let (received, interruption) = try await receive(request.body, into: session, room: length - offset)
        // tus is resumable: what arrived before a break is kept as its own part, so a HEAD answers
        // the true offset and the client sends only the rest. The part's commit is durable before
        // any answer, so the offset never claims bytes that are not stored.
        if received > 0 {
            // A cluster's lock lives as long as this node's database session: if that ended while
            // the body came, another node may be appending to the upload, so nothing is kept.
            guard await tusLocks.stillHeld(id) else {
                throw VaultError(
                    .serviceUnavailable,
                    "the lock on upload \(id) was lost while the PATCH was received (the cluster index's session ended): nothing of it was kept; HEAD gives the offset"
                )
            }
            _ = try await session.commitPart()
        }
        let newOffset = offset + received
        if let interruption {
            let got = declared.map { "received \(received) of \($0) bytes" } ?? "received \(received) bytes of a chunked body"
            let message = "the PATCH stopped early: \(got); they are kept and the upload's offset is now \(newOffset)"
            logger.warning("PATCH /api/storage/tus/\(id): \(message)")
            // A chunked body that lost only its last chunk marker still brought every byte: finish
            // it, or a HEAD would answer a full offset for an upload that never becomes an object.
            if newOffset == length, !(interruption is VaultError) {
                try await complete(id: id, forwarding: forwarding)
            }
            if CutOffBody.isCutOff(interruption) { throw VaultError(.badRequest, message) }
            throw interruption
        }
        var headers = base
        headers[.init("Upload-Offset")!] = String(newOffset)
        // The final PATCH answers only once the object is durably committed, with its ETag (the
        // MD5 of the recording), so a forwarding Depot (a `vault` tier) can check the bytes arrived.
        if newOffset == length { headers[.eTag] = "\"" + (try await complete(id: id, forwarding: forwarding)) + "\"" }
        return Response(status: .noContent, headers: headers, body: ResponseBody())
    }

    /// Turns the upload into the recording; returns its ETag (the hex MD5 of its bytes).
    @discardableResult
    private func complete(id: String, forwarding: (provider: VaultProvider, bucket: String, key: String)?) async throws
        -> String
    {
        let md5 = try engine.uploadContentMD5(uploadId: id)
        let parts = try engine.listParts(uploadId: id).parts.map { (number: $0.number, etag: String?.none) }
        _ = try await engine.completeUpload(uploadId: id, parts: parts, minimumPartSize: 0, origin: .vault("Put")) { _, _ in
            CompletedObject(etag: Hex.encode(md5), keepsParts: false)
        }
        if let forwarding {
            try await forwardThroughProvider(forwarding.provider, bucket: forwarding.bucket, key: forwarding.key)
        }
        return Hex.encode(md5)
    }

    /// Streams a PATCH body into `session`, at most `room` bytes. A failure of the body itself (the
    /// client cut it off, it came too slowly, it ran past Upload-Length) is returned with the count
    /// of bytes written so far, which the caller keeps; a failure to store is thrown, since the
    /// session's bytes can then no longer be trusted.
    private func receive(_ body: RequestBody, into session: IngestSession, room: UInt64) async throws -> (
        received: UInt64, interruption: Error?
    ) {
        var received: UInt64 = 0
        var buffers = body.makeAsyncIterator()
        while true {
            let next: ByteBuffer?
            do { next = try await buffers.next() } catch { return (received, error) }
            guard let buffer = next else { return (received, nil) }
            guard received + UInt64(buffer.readableBytes) <= room else {
                return (received, VaultError(.contentTooLarge, "the PATCH goes past Upload-Length"))
            }
            try buffer.withUnsafeReadableBytes { try session.write($0) }
            received += UInt64(buffer.readableBytes)
        }
    }
}
