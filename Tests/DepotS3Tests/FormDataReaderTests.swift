import DepotHashing
import Testing

@testable import DepotS3

/// Where the network cuts a browser form's body must not change what is read: every cut of a
/// form with a preamble, fields, a file whose bytes contain a near-delimiter, and the closing
/// boundary gives the same fields and file (the invariant the `form-data` fuzz target checks).
struct FormDataReaderTests {
    static let contentType = "multipart/form-data; boundary=\"b0undary\""
    static let body = Array(
        ("preamble\r\n--b0undary\r\nContent-Disposition: form-data; name=\"key\"\r\n\r\nuploads/${filename}\r\n"
            + "--b0undary\r\nContent-Disposition: form-data; name=\"success_action_status\"\r\n\r\n201\r\n"
            + "--b0undary\r\nContent-Disposition: form-data; name=\"file\"; filename=\"clip.mp4\"\r\nContent-Type: video/mp4\r\n\r\n"
            + "bytes\r\n--b0undar\r\n-- and more\r\n--b0undary--\r\n").utf8)

    @Test func everyCutReadsTheSame() throws {
        let whole = try #require(
            S3ParserFuzzEntryPoints.readForm(contentType: Self.contentType, body: Self.body, pieceSize: Self.body.count))
        #expect(whole.complete)
        #expect(
            whole.events == [
                .field(name: "key", value: "uploads/${filename}"), .field(name: "success_action_status", value: "201"),
                .file(
                    name: "file", filename: "clip.mp4", contentType: "video/mp4",
                    bytes: Array("bytes\r\n--b0undar\r\n-- and more".utf8)),
            ])
        for piece in 1..<Self.body.count {
            let cut = S3ParserFuzzEntryPoints.readForm(contentType: Self.contentType, body: Self.body, pieceSize: piece)
            #expect(cut?.events == whole.events, "pieces of \(piece) bytes")
            #expect(cut?.complete == true, "pieces of \(piece) bytes")
        }
    }

    /// The CRLF after a delimiter was skipped only if both bytes had already arrived: a body cut
    /// just after a delimiter kept them, and the next part's `--` then no longer ended the form.
    @Test func aCutJustAfterADelimiterChangesNothing() throws {
        let body = Array("--b\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n1\r\n--b\r\n--junk".utf8)
        let whole = try #require(
            S3ParserFuzzEntryPoints.readForm(contentType: "multipart/form-data; boundary=b", body: body, pieceSize: body.count))
        #expect(whole.events == [.field(name: "a", value: "1")] && whole.complete)
        for piece in 1..<body.count {
            let cut = S3ParserFuzzEntryPoints.readForm(
                contentType: "multipart/form-data; boundary=b", body: body, pieceSize: piece)
            #expect(cut?.events == whole.events && cut?.complete == true, "pieces of \(piece) bytes")
        }
    }

    /// The input `make fuzz` found (Fuzz/Corpus/form-data/fuzz-delimiter-end-cut), in the target's
    /// layout: byte 0 the piece size minus 1, the Content-Type up to the first newline, the body.
    @Test func fuzzFindingReadsTheSameInPieces() throws {
        let input = try #require(
            Base64.decode(
                "AG11bHRpcGFydC9mb3JtLWRhdGE7IGJvdW5kYXJ5PSI5NDMxMTQ5MTU2MTY4IjsgY2hhcnNldD11dGYtOAotLTk0MzExNDkxNTYxNjgNCkNvbnRlbnQtRGlzcG9zaXRpbzkxNTYxNjgNCkNvbnRlbnQtRGlzcG9zaXRpb246IGZvcm0tZGF0YTsgbmFtZT0iZmlsZSI7IGZpbGVuYW1lPSJjbGlwLm1wNCINCkNvbnRlbnQtVH6PZTogdmlkZW8vbXA0DQoNCmZpbGUgYnl0ZXMNCi0tOTQzMTE0OWNtRjBhVzl1SWpvaU1qQXpNQzB3TVMwd01WUXdNRG//////////4mlmUT09DQotLTk0MzExNDkxNTYxNjgNCi0tOUNvbnRlbnQtRGlzcG9zaXRpb246IGZvcm0tZGF0YTsgbmFtZT0iZmlsZSI7IGZpbGVuYW1lPSJjbGlwLm1wOCINCkNvbnRlbnQtVHlwZTogdmlkZXMNCi0tOTQzMTE0OTE1NjE2IG5vdHM2OA0KQ29ucG9zaXRpbwAAAAAAAAcxNTYxNjgtLQ0K"
            ))
        let rest = input.dropFirst()
        let newline = try #require(rest.firstIndex(of: 10))
        let contentType = String(decoding: rest[..<newline], as: UTF8.self)
        let body = Array(rest[(newline + 1)...])
        let whole = S3ParserFuzzEntryPoints.readForm(contentType: contentType, body: body, pieceSize: body.count)
        let pieces = S3ParserFuzzEntryPoints.readForm(contentType: contentType, body: body, pieceSize: Int(input[0]) + 1)
        #expect(whole?.events == pieces?.events && whole?.complete == pieces?.complete)
    }

    @Test func notAFormIsNotRead() {
        #expect(S3ParserFuzzEntryPoints.readForm(contentType: "text/plain", body: [], pieceSize: 1) == nil)
        #expect(S3ParserFuzzEntryPoints.readForm(contentType: "multipart/form-data; boundary=", body: [], pieceSize: 1) == nil)
    }
}
