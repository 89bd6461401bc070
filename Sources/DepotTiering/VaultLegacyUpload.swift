import AsyncHTTPClient
import DepotConfig
import DepotEngine
import Foundation
import NIOCore

extension VaultTier {
    /// The remote answered 404, 405 or 501 to the tus creation: it offers no tus uploads.
    struct TusUnsupported: Error { let status: UInt }

    /// A Vault without tus takes the whole recording in one `POST /storage`, as the agent falls
    /// back to it (kerberos-vault.md §5.2): the camera fields as headers, `Content-Type:
    /// video/mp4`, success only on 200. Not resumable: a copy cut off is sent again whole by its
    /// retry. Depot's Vault answers the stored size and ETag, which must be the object's.
    func legacyUpload(_ reader: ObjectReader, remote: String, directory: String, filename: String) async throws {
        let record = reader.record
        var headers = [
            ("Content-Type", "video/mp4"), ("Content-Length", String(record.size)), ("X-Kerberos-Storage-FileName", filename),
            ("X-Kerberos-Storage-Directory", directory),
        ]
        let fields = uploadFields(record, directory: directory, filename: filename)
        for carried in Self.carriedMetadata {
            if let value = fields.first(where: { $0.0 == carried.field })?.1, Self.isHeaderSafe(value) {
                headers.append(("X-Kerberos-Storage-" + carried.header, value))
            }
        }
        var request = request(.POST, "/storage", headers: headers)
        request.body = .stream(ObjectPieces(reader: reader, range: 0..<record.size), length: .known(Int64(record.size)))
        // Five minutes for the remote to store it (the agent's bound), and a second per 64 KiB.
        let reply = try await send(request, timeout: .seconds(300 + Int64(record.size >> 16)))
        guard reply.status == 200 else {
            if reply.status == 404 || reply.status == 405 {
                throw TierError(
                    "\(settings.endpoint) answers neither tus (POST /storage/tus/) nor POST /storage (HTTP \(reply.status)): "
                        + "endpoint must be the Vault API base, e.g. https://vault.example/api")
            }
            throw TierError.refused(
                "POST /storage \(remote): HTTP \(reply.status) \(Self.errorText(reply))", status: Int(reply.status))
        }
        guard let object = (try? JSONSerialization.jsonObject(with: Data(reply.body))) as? [String: Any],
            let stored = object["data"] as? [String: Any]
        else { return }
        if let size = (stored["fileSize"] as? NSNumber)?.uint64Value, size != record.size {
            throw TierError("the remote stored \(size) bytes of \(remote), not \(record.size)")
        }
        try Self.verify(etag: stored["etag"] as? String, of: record, remote: remote)
    }
}
