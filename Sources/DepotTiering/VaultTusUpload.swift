import AsyncHTTPClient
import DepotConfig
import DepotEngine
import DepotHashing
import DepotSignedHTTP
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// The `vault` tier's upload: tus 1.0.0 as a Kerberos Agent speaks it (kerberos-vault.md §5.2).
///
/// - The upload's id is kept in the index (`VaultUploadSessions`) from its creation to its end, so
///   a copy interrupted by a restart of this Depot resumes with a HEAD for the remote's offset.
/// - A PATCH that fails (connection refused or cut, the remote restarting, a 5xx, 409 offset
///   mismatch, 423 locked) is followed by a HEAD, and the chunks are cut again from the offset the
///   remote reports: what the remote kept is never sent again.
/// - 404 or 410 for the upload (expired, aborted, or finished by an answer that was lost) starts a
///   new upload, at most `maximumRestarts` times per attempt.
/// - At most `maximumStalls` attempts in a row without progress, with backoff from 500 ms doubling
///   to 3 s between them (the agent's bounds); then the copy fails with the last error, the
///   tiering service retries it later with its own backoff, and the stored id resumes it then.
/// - A remote without tus (404, 405 or 501 to the creation) gets the legacy single POST
///   (VaultLegacyUpload.swift), as the agent falls back to it.
extension VaultTier {
    static let maximumStalls = 4
    static let maximumRestarts = 2

    /// What the remote said about an upload.
    enum UploadState {
        case at(offset: UInt64, length: UInt64?, etag: String? = nil)
        case gone(status: UInt)
    }

    public func upload(_ reader: ObjectReader, bucket: String, key: String) async throws {
        let record = reader.record
        let remote = settings.remoteKey(bucket: bucket, key: key)
        let (directory, filename) = try Self.split(remote)
        guard record.size > 0 else {
            throw TierError("\(remote) is empty, and a Vault does not store empty recordings", permanent: true)
        }
        let session = VaultUploadSessions.name(settings: settings, remoteKey: remote, record: record)
        var id = try sessions.load(session)
        var offset: UInt64? = nil  // unknown until the remote says (HEAD), or 0 for a new upload
        var stalls = 0
        var restarts = 0
        var lastError = ""
        while true {
            try Task.checkCancellation()
            do {
                guard let current = id else {
                    let created: String
                    do {
                        created = try await create(record, remote: remote, directory: directory, filename: filename)
                    } catch let refusal as TusUnsupported {
                        logger.info(
                            "tier \(settings.name): the remote has no tus uploads (HTTP \(refusal.status)); sending \(remote) in one POST /storage"
                        )
                        try await legacyUpload(reader, remote: remote, directory: directory, filename: filename)
                        return
                    }
                    try await sessions.save(session, id: created)
                    (id, offset) = (created, 0)
                    continue
                }
                if offset == nil {
                    switch try await head(current) {
                    case .at(let reported, let length, _) where length == nil || length == record.size:
                        if reported >= record.size {
                            // Every byte arrived but the upload never became a recording (its
                            // finishing failed): the agent's answer, start it again.
                            _ = try? await send(request(.DELETE, "/storage/tus/" + current, headers: Self.tusHeader))
                            throw Restart(reason: "upload \(current) holds every byte but was not finished")
                        }
                        if reported > 0 {
                            logger.info(
                                "tier \(settings.name): resuming upload \(current) of \(remote) at offset \(reported) of \(record.size)"
                            )
                        }
                        offset = reported
                    case .at(_, let length, _):
                        throw Restart(reason: "upload \(current) has length \(length ?? 0), not \(record.size)")
                    case .gone(let status):
                        // A final PATCH whose answer was lost finished the upload: the remote
                        // already holds the recording, which its ETag can prove.
                        if try await remoteHolds(record, remote: remote) {
                            try await sessions.remove(session)
                            logger.info(
                                "tier \(settings.name): upload \(current) is gone, and the remote holds \(remote) with its MD5")
                            return
                        }
                        throw Restart(reason: "upload \(current) is gone (HTTP \(status))")
                    }
                }
                guard let start = offset else { continue }
                let end = min(record.size, start + UInt64(settings.partSize))
                switch try await patch(current, reader: reader, range: start..<end) {
                case .gone(let status):
                    throw Restart(reason: "upload \(current) is gone (HTTP \(status))")
                case .at(let reached, _, let etag):
                    stalls = 0
                    offset = reached
                    if reached >= record.size {
                        try await sessions.remove(session)
                        try Self.verify(etag: etag, of: record, remote: remote)
                        return
                    }
                    // A stop waits for copies under way; this one can pause at a chunk's end
                    // and resume at the next start, so it does not hold the stop up.
                    if Task.isShuttingDownGracefully {
                        throw TierError(
                            "\(remote): paused at offset \(reached) of \(record.size) for the shutdown; "
                                + "upload \(current) resumes at the next start")
                    }
                }
            } catch let restart as Restart {
                restarts += 1
                try await sessions.remove(session)
                guard restarts <= Self.maximumRestarts else {
                    throw TierError("\(remote): \(restart.reason), and the upload was started \(restarts) times")
                }
                logger.warning("tier \(settings.name): \(restart.reason); uploading \(remote) from the start")
                (id, offset) = (nil, nil)
            } catch let error as TierError {
                throw error
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                // The connection (refused, cut, timed out) or a refusal that a HEAD may explain.
                lastError = "\(error)"
                stalls += 1
                guard stalls < Self.maximumStalls else {
                    throw TierError("\(remote): \(stalls) attempts without progress, the last: \(lastError)")
                }
                logger.info(
                    "tier \(settings.name): \(remote) at offset \(offset.map(String.init) ?? "?"): \(lastError); retrying")
                offset = nil
                try await Task.sleep(for: .milliseconds(min(3000, 500 << (stalls - 1))))
            }
        }
    }

    static let tusHeader = [("Tus-Resumable", "1.0.0")]

    /// Whether the remote serves this very recording at `remote` already: a one-byte read of it
    /// whose ETag is the object's MD5 (Depot's Vault sends it; a Vault does not, and then the
    /// answer is no). Objects without a plain MD5 (multipart) are never taken as held.
    func remoteHolds(_ record: ObjectRecord, remote: String) async throws -> Bool {
        guard !record.etag.contains("-") else { return false }
        let probe = request(.GET, "/storage/blob", headers: [("X-Kerberos-Storage-FileName", remote), ("Range", "bytes=0-0")])
        guard let reply = try? await client.fetch(probe, timeout: .seconds(30), bodyLimit: 64 << 10),
            reply.status == 206 || reply.status == 200
        else { return false }
        return reply.headers.first(name: "etag")?.filter({ $0 != "\"" }) == record.etag
    }

    /// The end-to-end check of a finished upload. A Vault answers the final PATCH with no checksum,
    /// so there the remote's offset reaching the size is all there is; Depot's Vault adds the
    /// recording's ETag (the MD5 of what it stored), which must be this object's MD5 (when it has
    /// one: a multipart ETag is not an MD5). A mismatch fails the copy, and its retry uploads again.
    static func verify(etag: String?, of record: ObjectRecord, remote: String) throws {
        guard let etag, !record.etag.contains("-"), etag.count == 32 else { return }
        guard etag == record.etag else {
            throw TierError("the remote stored \(remote) with MD5 \(etag), but the recording's is \(record.etag)")
        }
    }

    /// An upload that must start again, and why.
    struct Restart: Error { let reason: String }

    /// A refusal to retry after a HEAD (a 5xx, 409 offset mismatch, 423 locked, an odd answer).
    struct Unexpected: Error, CustomStringConvertible { let description: String }

    /// `POST /storage/tus/`: the upload's length, the recording's fields in `Upload-Metadata`
    /// (sorted `key base64(value)` pairs) and as `X-Kerberos-Storage-*` headers; its id is the
    /// last path segment of `Location` (as the agent takes it, surviving proxies that rewrite hosts).
    func create(_ record: ObjectRecord, remote: String, directory: String, filename: String) async throws -> String {
        let fields = uploadFields(record, directory: directory, filename: filename)
        let metadata = fields.sorted { $0.0 < $1.0 }.map { "\($0.0) \(Base64.encode(Array($0.1.utf8)))" }
        var headers =
            Self.tusHeader + [
                ("Upload-Length", String(record.size)), ("Upload-Metadata", metadata.joined(separator: ",")),
                ("Content-Length", "0"), ("X-Kerberos-Storage-FileName", filename), ("X-Kerberos-Storage-Directory", directory),
            ]
        for carried in Self.carriedMetadata {
            if let value = fields.first(where: { $0.0 == carried.field })?.1, Self.isHeaderSafe(value) {
                headers.append(("X-Kerberos-Storage-" + carried.header, value))
            }
        }
        let reply = try await send(request(.POST, "/storage/tus/", headers: headers))
        switch reply.status {
        case 201:
            let location = reply.headers.first(name: "location") ?? ""
            let id = location.split(separator: "?").first.flatMap { $0.split(separator: "/").last }.map(String.init) ?? ""
            guard !id.isEmpty, Self.isHeaderSafe(id) else {
                throw TierError("POST /storage/tus/ for \(remote): 201 without a usable Location (\"\(location)\")")
            }
            return id
        case 404, 405, 501:
            throw TusUnsupported(status: reply.status)
        default:
            throw TierError.refused(
                "POST /storage/tus/ for \(remote): HTTP \(reply.status) \(Self.errorText(reply))", status: Int(reply.status))
        }
    }

    /// `HEAD /storage/tus/{id}`: the remote's offset (and length, when it says).
    func head(_ id: String) async throws -> UploadState {
        let reply = try await send(request(.HEAD, "/storage/tus/" + id, headers: Self.tusHeader))
        switch reply.status {
        case 200, 204:
            guard let text = reply.headers.first(name: "upload-offset"), let offset = UInt64(text) else {
                throw Unexpected(description: "HEAD /storage/tus/\(id): HTTP \(reply.status) without Upload-Offset")
            }
            return .at(offset: offset, length: reply.headers.first(name: "upload-length").flatMap { UInt64($0) })
        case 404, 410:
            return .gone(status: reply.status)
        case 401, 403:
            throw TierError("HEAD /storage/tus/\(id): HTTP \(reply.status) \(Self.errorText(reply))")
        default:
            throw Unexpected(description: "HEAD /storage/tus/\(id): HTTP \(reply.status) \(Self.errorText(reply))")
        }
    }

    /// One `PATCH /storage/tus/{id}` of `range`, streamed from the segments (paced by the tier's
    /// bandwidth limit). Only 204 is success (as the agent counts it); the new offset is the
    /// answer's `Upload-Offset`, or the end of the range when the remote leaves it out.
    func patch(_ id: String, reader: ObjectReader, range: Range<UInt64>) async throws -> UploadState {
        var request = request(
            .PATCH, "/storage/tus/" + id,
            headers: Self.tusHeader + [
                ("Content-Type", "application/offset+octet-stream"), ("Upload-Offset", String(range.lowerBound)),
                ("Content-Length", String(range.count)),
            ])
        request.body = .stream(ObjectPieces(reader: reader, range: range), length: .known(Int64(range.count)))
        // Two minutes, and one more second per 64 KiB: a chunk at the slowest bandwidth allowed.
        let reply = try await send(request, timeout: .seconds(120 + Int64(range.count >> 16)))
        switch reply.status {
        case 204:
            let reached = reply.headers.first(name: "upload-offset").flatMap { UInt64($0) } ?? range.upperBound
            guard reached > range.lowerBound else {
                throw Unexpected(description: "PATCH /storage/tus/\(id) at \(range.lowerBound): 204 without progress")
            }
            let etag = reply.headers.first(name: "etag").map { $0.filter { $0 != "\"" } }
            return .at(offset: reached, length: nil, etag: etag)
        case 404, 410:
            return .gone(status: reply.status)
        case 401, 403:
            throw TierError("PATCH /storage/tus/\(id): HTTP \(reply.status) \(Self.errorText(reply))")
        case 400, 413, 415:
            // About this request, not the remote's state: the recording cannot go up this way.
            throw TierError.refused(
                "PATCH /storage/tus/\(id) at \(range.lowerBound): HTTP \(reply.status) \(Self.errorText(reply))",
                status: Int(reply.status))
        default:
            throw Unexpected(
                description: "PATCH /storage/tus/\(id) at \(range.lowerBound): HTTP \(reply.status) \(Self.errorText(reply))")
        }
    }
}
