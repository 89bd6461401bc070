/// The one decision, taken by every front door before it reads an upload's body, on whether an
/// upload of a declared size may start: PutObject and UploadPart (Content-Length or
/// x-amz-decoded-content-length), a browser POST (the form's Content-Length), the Vault legacy
/// POST (Content-Length when the agent sends one), tus (Upload-Length at creation, each PATCH's
/// Content-Length). Refusing here answers at once (507) instead of after the client has sent
/// megabytes that could never be kept. Bodies without a declared size are held to the same rule
/// chunk by chunk as they arrive (`IngestSession.store`), so they stop as soon as the room runs
/// out, and their dropped session's bytes are reclaimed (`IngestSession.deinit`).
extension Engine {
    public func admitUpload(declaredBytes: UInt64) throws {
        try ensureRoomForUpload(bytes: declaredBytes)
    }
}
