/// The tus 1.0.0 numeric headers, read strictly and in one place: `Upload-Length` when an upload
/// is created (or `Upload-Defer-Length`, which Depot does not offer), and `Upload-Offset` with the
/// body's `Content-Length` on every PATCH. Pure functions of the header text, so the fuzz target
/// drives exactly what the server decides.
enum TusHeaders {
    /// tus: Upload-Length and Upload-Offset "MUST be a non-negative integer". Decimal digits only:
    /// Swift's `UInt64(_:)` alone would also take a sign (`+5`); a value past UInt64 is refused.
    static func integer(_ text: String) -> UInt64? {
        guard !text.isEmpty, text.utf8.count <= 20, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") })
        else { return nil }
        return UInt64(text)
    }

    /// The length of an upload being created. Depot does not advertise `creation-defer-length`, so
    /// an upload of unknown length is refused with a message saying so, rather than "required".
    static func creationLength(uploadLength: String?, deferLength: String?, maxSize: UInt64) throws -> UInt64 {
        guard let uploadLength else {
            if deferLength != nil {
                throw VaultError(
                    .badRequest, "Upload-Defer-Length is not supported (no creation-defer-length extension): send Upload-Length")
            }
            throw VaultError(.badRequest, "Upload-Length is required")
        }
        guard deferLength == nil else {
            throw VaultError(.badRequest, "send either Upload-Length or Upload-Defer-Length, not both")
        }
        guard let length = integer(uploadLength) else {
            throw VaultError(
                .badRequest, "Upload-Length must be a non-negative decimal integer, not \"\(uploadLength.prefix(40))\"")
        }
        guard length > 0 else { throw VaultError(.badRequest, "an empty recording is not stored") }
        guard length <= maxSize else { throw VaultError(.contentTooLarge, "Upload-Length exceeds Tus-Max-Size \(maxSize)") }
        return length
    }

    /// Checks a PATCH's `Upload-Offset` against the upload's stored `offset` of `length`, and its
    /// `Content-Length` (nil for a chunked body) against the room left; returns the declared length.
    /// Refused before a byte is read: a body that cannot fit would only be cut at Upload-Length.
    static func patchBodyLength(uploadOffset: String?, contentLength: String?, offset: UInt64, length: UInt64) throws
        -> UInt64?
    {
        guard let uploadOffset else { throw VaultError(.badRequest, "Upload-Offset is required") }
        guard let claimed = integer(uploadOffset) else {
            throw VaultError(
                .badRequest, "Upload-Offset must be a non-negative decimal integer, not \"\(uploadOffset.prefix(40))\"")
        }
        guard claimed == offset, offset <= length else {
            throw VaultError(.conflict, "Upload-Offset \(claimed) does not match the upload's offset \(offset)")
        }
        guard let contentLength else { return nil }
        // The HTTP layer has already refused a Content-Length that is not a number.
        guard let declared = integer(contentLength) else {
            throw VaultError(.badRequest, "Content-Length must be a decimal integer")
        }
        if declared > length - offset {
            throw VaultError(
                .contentTooLarge,
                "Content-Length \(declared) is more than the \(length - offset) bytes left before Upload-Length \(length)")
        }
        return declared
    }
}

/// Public doors to DepotVault's internal header parsers for the libFuzzer targets in Fuzz/, which
/// build in release without `-enable-testing` and so cannot `@testable import` this module.
public enum VaultParserFuzzEntryPoints {
    /// The length a tus creation request would get, or nil when it is refused.
    public static func tusCreationLength(uploadLength: String?, deferLength: String?, maxSize: UInt64) -> UInt64? {
        try? TusHeaders.creationLength(uploadLength: uploadLength, deferLength: deferLength, maxSize: maxSize)
    }

    /// Whether a PATCH with these headers would be let through to its body, and the length it declares.
    public static func tusPatch(uploadOffset: String?, contentLength: String?, offset: UInt64, length: UInt64) -> (
        accepted: Bool, declared: UInt64?
    ) {
        do {
            return (
                true,
                try TusHeaders.patchBodyLength(
                    uploadOffset: uploadOffset, contentLength: contentLength, offset: offset, length: length)
            )
        } catch {
            return (false, nil)
        }
    }

    /// tus's non-negative integer, as the headers above read it.
    public static func tusInteger(_ text: String) -> UInt64? { TusHeaders.integer(text) }
}
