import HTTPTypes
import Testing

@testable import DepotS3

/// The S3 request's parse: the path decoded once (a path without escapes is taken as it is), the
/// query decoded into names and values, and path-style or virtual-host addressing.
struct S3RequestParsingTests {
    func parse(_ target: String, host: String = "127.0.0.1:9000", domain: String = "") -> S3Request? {
        S3Request(method: .get, target: target, authority: host, headers: [:], domain: domain)
    }

    @Test func aPathWithoutEscapesNamesItsBucketAndKeyAsWritten() throws {
        let r = try #require(parse("/bench/t/obj-123"))
        #expect(r.rawPath == "/bench/t/obj-123")
        #expect(r.rawQuery == "")
        #expect(r.bucket == "bench")
        #expect(r.key == "t/obj-123")
        #expect(r.query.isEmpty && r.queryOrder.isEmpty)
    }

    @Test func escapesInThePathAreDecodedAndPlusStaysAPlus() throws {
        let r = try #require(parse("/b/a%20b+c%2Fd%C3%A9"))
        #expect(r.rawPath == "/b/a%20b+c%2Fd%C3%A9")
        #expect(r.key == "a b+c/dé")
        let plus = try #require(parse("/b/x+y"))
        #expect(plus.key == "x+y")
    }

    @Test func aPathThatIsNotValidOrNotAbsoluteIsRefused() {
        #expect(parse("/b/%ZZ") == nil)
        #expect(parse("/b/%C3") == nil)  // an escape that is not UTF-8
        #expect(parse("/b/%") == nil)
        #expect(parse("b/k") == nil)
        #expect(parse("%2Fb/k") != nil)  // decodes to an absolute path
    }

    @Test func bucketAndKeyBoundaries() throws {
        let root = try #require(parse("/"))
        #expect(root.bucket == nil && root.key == nil)
        let bucket = try #require(parse("/b"))
        #expect(bucket.bucket == "b" && bucket.key == nil)
        let slash = try #require(parse("/b/"))
        #expect(slash.bucket == "b" && slash.key == nil)
        let deep = try #require(parse("/b//k/"))
        #expect(deep.key == "/k/")
    }

    @Test func queryNamesAndValuesAreDecodedWithPlusAsSpace() throws {
        let r = try #require(parse("/b?prefix=a+b%2Bc&delimiter=%2F&list-type=2"))
        #expect(r.rawQuery == "prefix=a+b%2Bc&delimiter=%2F&list-type=2")
        #expect(r.query["prefix"] == "a b+c")
        #expect(r.query["delimiter"] == "/")
        #expect(r.queryOrder == ["prefix", "delimiter", "list-type"])
    }

    @Test func aRepeatedQueryNameKeepsItsLastValueAndItsFirstPlace() throws {
        let r = try #require(parse("/b?a=1&b=2&a=3"))
        #expect(r.query == ["a": "3", "b": "2"])
        #expect(r.queryOrder == ["a", "b"])
    }

    @Test func emptyValuesBareFlagsAndEmptyPieces() throws {
        let r = try #require(parse("/b/k?uploads&x=&&y=="))
        #expect(r.query["uploads"] == "")
        #expect(r.query["x"] == "")
        #expect(r.query["y"] == "=")
        #expect(r.queryOrder == ["uploads", "x", "y"])
        let question = try #require(parse("/b/k?"))
        #expect(question.key == "k" && question.query.isEmpty && question.rawQuery == "")
    }

    @Test func unicodeQueryNamesAndBadEscapesInTheQuery() throws {
        let r = try #require(parse("/b?%C3%A9t%C3%A9=%E2%9C%93&caf\u{e9}=1"))
        #expect(r.query["été"] == "✓")
        #expect(r.query["café"] == "1")
        #expect(parse("/b?a=%ZZ") == nil)
        #expect(parse("/b?%FF=1") == nil)
    }

    @Test func virtualHostStyleOnlyWithADomain() throws {
        let hosted = try #require(parse("/t/obj", host: "Photos.S3.Example.com:9000", domain: "s3.example.com"))
        #expect(hosted.bucket == "Photos")
        #expect(hosted.key == "t/obj")
        let bare = try #require(parse("/", host: "photos.s3.example.com", domain: "s3.example.com"))
        #expect(bare.bucket == "photos" && bare.key == nil)
        // The domain itself, another domain, or no domain configured: path style.
        let apex = try #require(parse("/b/k", host: "s3.example.com", domain: "s3.example.com"))
        #expect(apex.bucket == "b" && apex.key == "k")
        let other = try #require(parse("/b/k", host: "photos.example.org", domain: "s3.example.com"))
        #expect(other.bucket == "b")
        let none = try #require(parse("/b/k", host: "photos.s3.example.com", domain: ""))
        #expect(none.bucket == "b" && none.key == "k")
        let ipv6 = try #require(parse("/b/k", host: "[::1]", domain: "s3.example.com"))
        #expect(ipv6.bucket == "b")
    }

    @Test func theNamesMadeOnceAreTheHeadersClientsSend() {
        #expect(HTTPField.Name.amzCopySource == HTTPField.Name("X-Amz-Copy-Source"))
        #expect(HTTPField.Name.amzRequestId.canonicalName == "x-amz-request-id")
    }
}
