import DepotSigV4
import Testing

/// `SigV4Encoding.decodeUTF8`, the one strict percent decoder the front doors use (S3 paths, keys
/// and query values, `x-amz-copy-source`, admin path parameters, Vault signed links): what the
/// S3 layer's own decoder did before it was folded into this one.
struct TextDecodingTests {
    @Test func plusIsASpaceOnlyInQueries() {
        #expect(SigV4Encoding.decodeUTF8("a+b%2Bc", plusAsSpace: true) == "a b+c")
        #expect(SigV4Encoding.decodeUTF8("a+b%2Bc", plusAsSpace: false) == "a+b+c")
        #expect(SigV4Encoding.decodeUTF8("only+plus", plusAsSpace: true) == "only plus")
        #expect(SigV4Encoding.decodeUTF8("only+plus", plusAsSpace: false) == "only+plus")
    }

    @Test func textWithoutEscapesComesBackAsItIs() {
        #expect(SigV4Encoding.decodeUTF8("", plusAsSpace: true) == "")
        #expect(SigV4Encoding.decodeUTF8("/bucket/camera-1/clip.mp4", plusAsSpace: false) == "/bucket/camera-1/clip.mp4")
        // Raw non-ASCII (a client that did not encode) is kept, not refused.
        #expect(SigV4Encoding.decodeUTF8("/b/café", plusAsSpace: false) == "/b/café")
        let target = "/b/k?x=1"
        let path = target.prefix { $0 != "?" }
        #expect(SigV4Encoding.decodeUTF8(path, plusAsSpace: false) == "/b/k")
    }

    @Test func decodesUTF8AndEitherHexCase() {
        #expect(SigV4Encoding.decodeUTF8("caf%C3%A9%20%e2%82%ac", plusAsSpace: false) == "café €")
        #expect(SigV4Encoding.decodeUTF8("%2F%2f", plusAsSpace: false) == "//")
        #expect(SigV4Encoding.decodeUTF8("%00", plusAsSpace: false) == "\u{0}")
    }

    @Test func invalidUTF8IsRefusedNotReplaced() {
        #expect(SigV4Encoding.decodeUTF8("%FF", plusAsSpace: false) == nil)
        #expect(SigV4Encoding.decodeUTF8("a%C3", plusAsSpace: true) == nil)  // a truncated sequence
        #expect(SigV4Encoding.decodeUTF8("%C0%AF", plusAsSpace: false) == nil)  // an overlong `/`
        #expect(SigV4Encoding.decodeUTF8("%ED%A0%80", plusAsSpace: false) == nil)  // a surrogate
        // The query decoder, by contrast, keeps bytes for the signature and replaces for display.
        #expect(SigV4Encoding.decodeQueryComponent("%FF") == "\u{FFFD}")
    }

    @Test func badEscapesAreRefused() {
        for text in ["%", "100%", "%4", "%4G", "%G4", "%%", "a%2", "%-1", "% 20"] {
            #expect(SigV4Encoding.decodeUTF8(text, plusAsSpace: false) == nil, "\(text)")
            #expect(SigV4Encoding.decodeUTF8(text, plusAsSpace: true) == nil, "\(text)")
        }
    }

    @Test func encodeThenDecodeGivesTheTextBack() {
        for text in ["a b+c/d", "camera 1/2024-01-01T10:00:00Z.mp4", "ሴ €/~", "!$&'()*,;=:@?#[]%", ""] {
            #expect(SigV4Encoding.decodeUTF8(SigV4Encoding.encode(text), plusAsSpace: true) == text)
            #expect(SigV4Encoding.decodeUTF8(SigV4Encoding.encodePath(text), plusAsSpace: false) == text)
        }
        // What S3 answers with for encoding-type=url and in Location: upper-case hex, `/` kept.
        #expect(SigV4Encoding.encode("dir/a b+é", keepSlash: true) == "dir/a%20b%2B%C3%A9")
    }
}
