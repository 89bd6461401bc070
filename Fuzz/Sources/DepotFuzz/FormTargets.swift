import DepotHashing
import DepotS3

/// The browser form upload (S3 POST Object): its `multipart/form-data` reader and its policy document.
enum FormTargets {
    /// `form-data`. Input: byte 0 = size of the pieces the body is fed in, minus 1; then the
    /// Content-Type up to the first `\n`; then the body. The same body fed whole and in pieces must
    /// give the same fields and files: the network decides where a body is cut, never the result.
    static func runFormData(_ input: [UInt8]) {
        guard let pieceByte = input.first else { return }
        let rest = input.dropFirst()
        let newline = rest.firstIndex(of: 10) ?? rest.endIndex
        let contentType = String(decoding: rest[..<newline], as: UTF8.self)
        let body = Array(rest[newline...].dropFirst())
        let whole = S3ParserFuzzEntryPoints.readForm(contentType: contentType, body: body, pieceSize: body.count)
        let pieces = S3ParserFuzzEntryPoints.readForm(contentType: contentType, body: body, pieceSize: Int(pieceByte) + 1)
        // The reader's size limits (16 KiB of part headers, 64 KiB of fields) may trip at different
        // moments for different cuts; below them, the cut must not matter.
        guard body.count < 16 << 10 else { return }
        precondition((whole == nil) == (pieces == nil), "the form was refused only when fed in pieces (or only whole)")
        if let whole, let pieces {
            precondition(whole.events == pieces.events, "the form read differently in pieces of \(Int(pieceByte) + 1) bytes")
            precondition(whole.complete == pieces.complete, "the form's end was seen only whole or only in pieces")
        }
    }

    /// `post-policy`. Input: the policy document, then a NUL byte, then the form fields one per
    /// line as `name:value`. If the first byte is `~` the document is taken as the Base64 text
    /// itself; otherwise it is JSON and Base64-encoded here, so the fuzzer mutates JSON.
    static func runPostPolicy(_ input: [UInt8]) {
        let nul = input.firstIndex(of: 0) ?? input.endIndex
        let document = input[..<nul]
        let encoded =
            document.first == UInt8(ascii: "~")
            ? String(decoding: document.dropFirst(), as: UTF8.self) : Base64.encode(Array(document))
        let fieldText = String(decoding: input[nul...].dropFirst(), as: UTF8.self)
        let fields: [(String, String)] = fieldText.split(separator: "\n").map { line in
            guard let colon = line.firstIndex(of: ":") else { return (String(line), "") }
            return (String(line[..<colon]), String(line[line.index(after: colon)...]))
        }
        _ = S3ParserFuzzEntryPoints.evaluatePostPolicy(
            base64: encoded, fields: fields + [("policy", encoded)], bucket: "rec", filename: "clip.mp4",
            now: 1_700_000_000)
    }
}
