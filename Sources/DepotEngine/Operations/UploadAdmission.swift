/// The one decision, taken by every front door before it reads an upload's body, on whether an
/// upload of a declared size may start: PutObject and UploadPart (Content-Length or
/// x-amz-decoded-content-length), a browser POST (the form's Content-Length), the Vault legacy
/// POST (Content-Length when the agent sends one), tus (Upload-Length at creation, each PATCH's
/// Content-Length). Refusing here answers at once (507) instead of after the client has sent
/// megabytes that could never be kept. Bodies without a declared size are held to the same rule
/// chunk by chunk as they arrive (`IngestSession.store`), so they stop as soon as the room runs
/// out, and their dropped session's bytes are reclaimed (`IngestSession.deinit`).
///
/// With `owner`, the owner's quota is asked too (Quota.swift): an upload that would take it past
/// its quota is refused up front (`bucket`/`key` name the object it would replace, whose size is
/// then given back); the commit checks again, exactly, in its transaction.
extension Engine {
    public func admitUpload(declaredBytes: UInt64, owner: String? = nil, bucket: String? = nil, key: String? = nil) throws {
        if let owner { try checkQuota(declaredBytes: declaredBytes, owner: owner, bucket: bucket, key: key) }
        try ensureRoomForUpload(bytes: declaredBytes)
    }
}
