import HTTPTypes
import Testing

@testable import DepotS3

/// User metadata outside US-ASCII: RFC 2047 encoded-words in, `=?UTF-8?B?…?=` out, as S3 does.
struct MetadataEncodingTests {
    @Test func decodesEncodedWords() {
        #expect(MetadataEncoding.decodeEncodedWords("=?UTF-8?B?Y2Fmw6k=?=") == "café")
        #expect(MetadataEncoding.decodeEncodedWords("=?utf-8?q?caf=C3=A9_au_lait?=") == "café au lait")
        #expect(MetadataEncoding.decodeEncodedWords("=?ISO-8859-1?Q?caf=E9?=") == "café")
        // White space between adjacent encoded-words is dropped; around plain text it stays.
        #expect(MetadataEncoding.decodeEncodedWords("=?UTF-8?Q?a?= =?UTF-8?Q?b?=") == "ab")
        #expect(MetadataEncoding.decodeEncodedWords("x =?UTF-8?Q?a?= y") == "x a y")
        // Anything malformed, or in a charset Depot does not read, is kept as written.
        for text in ["=?UTF-8?B?not base64?=", "=?UTF-8?X?abc?=", "=?KOI8-R?B?w6k=?=", "=?UTF-8?Q?=G1?=", "plain =? text"] {
            #expect(MetadataEncoding.decodeEncodedWords(text) == text, "\(text)")
        }
    }

    @Test func encodesNonASCIIValuesForResponses() {
        #expect(MetadataEncoding.headerValue("ascii value") == "ascii value")
        #expect(MetadataEncoding.headerValue("café") == "=?UTF-8?B?Y2Fmw6k=?=")
        #expect(MetadataEncoding.headerValue("tab\there") == "=?UTF-8?B?dGFiCWhlcmU=?=")
        #expect(MetadataEncoding.decodeEncodedWords(MetadataEncoding.headerValue("東京 カメラ")) == "東京 カメラ")
    }

    @Test func readsRawHeaderBytesAsUTF8OrLatin1() {
        let utf8 = HTTPField(name: .init("x-amz-meta-place")!, value: Array("café".utf8))
        #expect(MetadataEncoding.storedValue(of: utf8) == "café")
        let latin1 = HTTPField(name: .init("x-amz-meta-place")!, value: [0x63, 0x61, 0x66, 0xE9])
        #expect(MetadataEncoding.storedValue(of: latin1) == "café")
    }
}
