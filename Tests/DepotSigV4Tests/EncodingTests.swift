import DepotSigV4
import Testing

/// The canonical pieces, checked against the rules of the SigV4 specification.
struct EncodingTests {
    @Test func encodesEverythingButUnreservedBytes() {
        #expect(SigV4Encoding.encode("A-Z_a.z~09") == "A-Z_a.z~09")
        #expect(SigV4Encoding.encode("a b+c/d") == "a%20b%2Bc%2Fd")
        #expect(SigV4Encoding.encode("!$&'()*,;=:@?#[]%") == "%21%24%26%27%28%29%2A%2C%3B%3D%3A%40%3F%23%5B%5D%25")
        #expect(SigV4Encoding.encode("ሴ") == "%E1%88%B4")
        #expect(SigV4Encoding.encodePath("camera-1/2024 01/clip+1.mp4") == "camera-1/2024%2001/clip%2B1.mp4")
    }

    @Test func decodesPercentEscapesAndOptionallyPlus() {
        #expect(SigV4Encoding.decode("a%20b+c%2b", plusAsSpace: false) == Array("a b+c+".utf8))
        #expect(SigV4Encoding.decode("a%20b+c%2B", plusAsSpace: true) == Array("a b c+".utf8))
        #expect(SigV4Encoding.decode("%e1%88%B4", plusAsSpace: false) == [0xE1, 0x88, 0xB4])
        #expect(SigV4Encoding.decode("100%", plusAsSpace: false) == nil)
        #expect(SigV4Encoding.decode("%4", plusAsSpace: false) == nil)
        #expect(SigV4Encoding.decode("%zz", plusAsSpace: false) == nil)
        #expect(SigV4Encoding.decodeQueryComponent("J+K%2FL") == "J K/L")
    }

    @Test func canonicalURIForS3DecodesThenEncodesOnce() {
        #expect(CanonicalRequest.canonicalURI(rawPath: "", style: .s3) == "/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/test$file.text", style: .s3) == "/test%24file.text")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/test%24file.text", style: .s3) == "/test%24file.text")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/a%20b/c+d", style: .s3) == "/a%20b/c%2Bd")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/b/%7euser/%c3%a9", style: .s3) == "/b/~user/%C3%A9")
        // Keys may hold dot segments and empty segments: S3 keeps them.
        #expect(CanonicalRequest.canonicalURI(rawPath: "/b//a/../c/./", style: .s3) == "/b//a/../c/./")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/bad%zz", style: .s3) == nil)
    }

    @Test func canonicalURIForOtherServicesNormalizesAndEncodesTwice() {
        #expect(
            CanonicalRequest.canonicalURI(rawPath: "/example%20space/", style: .doubleEncoded) == "/example%2520space/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/ሴ", style: .doubleEncoded) == "/%E1%88%B4")
        #expect(CanonicalRequest.canonicalURI(rawPath: "//", style: .doubleEncoded) == "/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "//example//", style: .doubleEncoded) == "/example/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/example/..", style: .doubleEncoded) == "/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/example1/example2/../..", style: .doubleEncoded) == "/")
        #expect(CanonicalRequest.canonicalURI(rawPath: "/./example", style: .doubleEncoded) == "/example")
        #expect(
            CanonicalRequest.canonicalURI(rawPath: "/123456789012/queue", style: .doubleEncoded)
                == "/123456789012/queue")
    }

    @Test func canonicalQuerySortsEncodesAndFillsEmptyValues() {
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "") == "")
        #expect(
            CanonicalRequest.canonicalQuery(rawQuery: "Param2=value2&Param1=value1") == "Param1=value1&Param2=value2")
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "lifecycle") == "lifecycle=")
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "uploads=&prefix=a") == "prefix=a&uploads=")
        // By name, then by value; upper case sorts before lower case (byte order).
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "b=2&a=2&a=1&B=0") == "B=0&a=1&a=2&b=2")
        // Decoded, then encoded the SigV4 way: '+' in a query is a space, '%2B' is a plus.
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "prefix=a+b%2Bc&k=%7e*") == "k=~%2A&prefix=a%20b%2Bc")
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "x=a=b&&y=") == "x=a%3Db&y=")
        #expect(
            CanonicalRequest.canonicalQuery(
                rawQuery: "X-Amz-Signature=abc&X-Amz-Date=1", excluding: ["X-Amz-Signature"])
                == "X-Amz-Date=1")
        #expect(CanonicalRequest.canonicalQuery(rawQuery: "a=%G0") == nil)
    }

    @Test func queryStringBuildsTheCanonicalFormFromDecodedParameters() {
        #expect(SigV4Encoding.queryString([]) == "")
        #expect(
            SigV4Encoding.queryString([("prefix", "camera 1/"), ("list-type", "2"), ("delimiter", "/")])
                == "delimiter=%2F&list-type=2&prefix=camera%201%2F")
    }

    @Test func canonicalHeadersTrimJoinAndRequireSignedNames() throws {
        let headers: [(name: String, value: String)] = [
            ("Host", "example.amazonaws.com"), ("My-Header1", "value4"), ("my-header1", " value1"),
            ("MY-HEADER1", "value3  "), ("my-header1", "value2"), ("My-Header2", "  \"a   b \t c\"  "),
        ]
        let text = try CanonicalRequest.canonicalHeaders(headers, signedHeaders: ["host", "my-header1", "my-header2"])
        #expect(text == "host:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nmy-header2:\"a b c\"\n")
        #expect(throws: SigV4Error.missingHeader("x-amz-date")) {
            try CanonicalRequest.canonicalHeaders(headers, signedHeaders: ["host", "x-amz-date"])
        }
        #expect(CanonicalRequest.trimmedHeaderValue("") == "")
        #expect(CanonicalRequest.trimmedHeaderValue("   ") == "")
    }
}
