extension S3Service {
    /// The one place that decides whether a body may become (part of) an object, checked before
    /// a byte of it is stored. A single request (PutObject, a part, a browser POST) is held to
    /// S3's 5 GiB and to `server.maxObjectSize`; a whole object (CompleteMultipartUpload's sum of
    /// parts) to `server.maxObjectSize`. The answer is AWS's: 400 `EntityTooLarge` with the
    /// proposed and the allowed size.
    func requireAllowedSize(_ size: UInt64, wholeObject: Bool = false) throws {
        let singleLimit = min(settings.maxPutSize, settings.maxObjectSize)
        let limit = wholeObject ? settings.maxObjectSize : singleLimit
        guard size > limit else { return }
        let message =
            limit == settings.maxObjectSize
            ? "Your proposed upload exceeds the maximum allowed object size."
            : "Your proposed upload exceeds the maximum allowed size (use multipart upload)."
        throw S3Error(
            "EntityTooLarge", .badRequest, message,
            details: [("ProposedSize", String(size)), ("MaxSizeAllowed", String(limit))])
    }
}
