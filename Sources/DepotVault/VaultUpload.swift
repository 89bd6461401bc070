import DepotConfig
import DepotEngine
import DepotObjectBody
import Foundation
import Glibc
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore

extension VaultService {
    /// The metadata of an agent upload: the filename convention's fields, then the headers (or,
    /// for tus, the Upload-Metadata values), as S3 user metadata.
    func recordingMetadata(account: Account, filename: String, values: [String: String]) -> ObjectMetadata {
        var user = RecordingName.metadata(of: filename)
        func set(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            user.removeAll { $0.0 == name }
            user.append((name, value))
        }
        set("productid", values["device"])
        set("publickey", values["cloudkey"])
        set("capture", values["capture"])
        set("fps", values["fps"])
        set("duration", values["duration"])
        set("event-timestamp-ms", values["timestamp"])
        set("provider", values["provider"])
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        set("uploadtime", String(now.tv_sec))
        return ObjectMetadata(owner: account.accessKey, contentType: "video/mp4", userMetadata: user.sorted { $0.0 < $1.0 })
    }

    func headerValues(_ request: Request) -> [String: String] {
        var values: [String: String] = [:]
        for name in ["Device", "CloudKey", "Capture", "Fps", "Duration", "Timestamp", "Provider", "Directory", "FileName"] {
            if let value = Self.header(request, "X-Kerberos-Storage-" + name) { values[name.lowercased()] = value }
        }
        return values
    }

    /// `POST /api/storage`: the whole recording in the body (the agent sends it chunked, with no
    /// Content-Length). 200 only once the object is durably committed.
    func legacyUpload(_ request: Request) async throws -> Response {
        var values = headerValues(request)
        let (account, provider) = try route(try authenticate(request), provider: values["provider"])
        if let provider { values["provider"] = provider.name }
        guard let filename = values["filename"] else { throw VaultError(.badRequest, "missing X-Kerberos-Storage-FileName") }
        let key = try objectKey(account: account, directory: values["directory"], filename: filename)
        try authorize(account, .write, bucket: account.vault!.bucket, key: key)
        let lockRequest = try recordingLockRequest(account: account)
        let declared = request.headers[.contentLength].flatMap(UInt64.init)
        if let declared, declared > maxUploadSize {
            throw VaultError(.contentTooLarge, "the recording is larger than \(maxUploadSize) bytes")
        }
        if let declared {  // 507 (space) or 403 (quota) before the body is read
            try engine.admitUpload(
                declaredBytes: declared, owner: account.accessKey, bucket: account.vault!.bucket, key: key)
        }
        let session = try engine.startIngest(bucket: account.vault!.bucket, key: key)
        // The bucket's default encryption (S3 PutBucketEncryption) holds for recordings too.
        if let encryption = try engine.defaultEncryption(ofBucket: account.vault!.bucket) {
            try await session.encrypt(with: encryption)
        }
        var received: UInt64 = 0
        do {
            for try await buffer in request.body {
                received += UInt64(buffer.readableBytes)
                guard received <= maxUploadSize else {
                    throw VaultError(.contentTooLarge, "the recording is larger than \(maxUploadSize) bytes")
                }
                try buffer.withUnsafeReadableBytes { try session.write($0) }
            }
        } catch  where CutOffBody.isCutOff(error) {
            // The client's doing, so a 400, with a line saying how far the body got.
            let message = CutOffBody.describe(received: received, declared: declared)
            logger.warning("POST /api/storage \(key): \(message)")
            throw VaultError(.badRequest, message)
        }
        if let declared, declared != received {
            throw VaultError(.badRequest, CutOffBody.describe(received: received, declared: declared))
        }
        guard received > 0 else { throw VaultError(.badRequest, "the recording is empty; nothing was stored") }
        var metadata = recordingMetadata(account: account, filename: filename, values: values)
        metadata.systemMetadata += lockRequest
        let record = try await session.commit(metadata: metadata, origin: .vault("Put"))
        if let device = values["device"] { try await engine.bindDevice(device, owner: account.accessKey) }
        try await forwardThroughProvider(provider, bucket: account.vault!.bucket, key: key)
        return vaultJSON(
            ["key": key, "fileSize": record.size, "etag": record.etag, "bucket": account.vault!.bucket] as [String: Any])
    }

    /// `GET /api/storage/blob`: the recording's bytes (Range honoured), as Vault serves them.
    func blob(_ request: Request) throws -> Response {
        let (account, key) = try resolveExisting(request, for: .read)
        return try streamRecording(request, bucket: account.vault!.bucket, key: key)
    }

    /// Streams a recording (Range honoured) with the headers Vault sends.
    func streamRecording(_ request: Request, bucket: String, key: String) throws -> Response {
        let opened: ObjectReader?
        do {
            opened = try engine.openObject(bucket: bucket, key: key)
        } catch is CustomerKeyEncryption.Refusal {
            // Vault has no way to send an SSE-C key; the object is read through S3 with it.
            throw VaultError(
                .badRequest,
                "recording \(key) is encrypted with a customer-provided key (SSE-C); download it through S3 with that key",
                code: "SSECustomerKeyRequired")
        }
        guard let reader = opened else {
            throw VaultError(.notFound, "no recording \(key)")
        }
        let size = reader.record.size
        var range = 0..<size
        var status = HTTPResponse.Status.ok
        var headers = HTTPFields()
        // Read as S3 reads it (one parser): bad syntax or several ranges send the whole recording.
        switch ByteRangeRequest(header: request.headers[.range], size: size) {
        case .whole:
            break
        case .partial(let partial):
            range = partial
            status = .partialContent
            headers[.contentRange] = ByteRangeRequest.contentRange(partial, size: size)
        case .unsatisfiable:
            throw VaultError(.rangeNotSatisfiable, "range outside the recording (\(size) bytes)")
        }
        headers[.contentType] = reader.record.contentType
        // The recording's ETag (its MD5), so a forwarding Depot can tell the copy it holds is this one.
        headers[.eTag] = "\"\(reader.record.etag)\""
        headers[.contentDisposition] = VaultContentDisposition.attachment(filename: key)
        headers[.init("Content-Description")!] = "File Transfer"
        headers[.acceptRanges] = "bytes"
        headers[.contentLength] = String(range.count)
        // Local chunks, or read through from a tier if a transition evicted them.
        let body = try objectResponseBody(reader, range: range)
        return Response(status: status, headers: headers, body: body)
    }

    /// `POST /api/devices/heartbeat`: unauthenticated, as the agent sends it; keyed by `key`.
    /// Account headers, when a client does send them, must be valid and make the device that
    /// account's.
    func heartbeat(_ request: Request) async throws -> Response {
        let owner = Self.header(request, "X-Kerberos-Storage-AccessKey") == nil ? nil : try authenticate(request).accessKey
        var body = request.body
        let bytes = try await body.collect(upTo: 64 << 10)
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes.readableBytesView)) as? [String: Any],
            let key = object["key"] as? String, !key.isEmpty
        else { throw VaultError(.badRequest, "the heartbeat must be a JSON object with a key") }
        var info: [(String, String)] = []
        for name in ["cameraname", "hostname", "version", "release", "architecture", "cameraConnected", "clouduser"] {
            if let value = object[name] { info.append((name, "\(value)")) }
        }
        try await engine.recordHeartbeat(device: key, info: info, owner: owner)
        return vaultJSON("ok")
    }

    /// `GET /api/devices`: the calling account's devices (those its uploads named), ONLINE when a
    /// heartbeat came within the last minute. Other accounts' cameras are not listed.
    func devices(of account: Account) throws -> Response {
        let now = Engine.now()
        let list: [[String: Any]] = try engine.devices(owner: account.accessKey).map { device in
            var entry: [String: Any] = [
                "key": device.key, "lastSeen": device.lastSeen / 1000,
                "status": now - device.lastSeen <= 60_000 ? "ONLINE" : "OFFLINE",
            ]
            for (name, value) in device.info { entry[name] = value }
            return entry
        }
        return vaultJSON(list)
    }
}
