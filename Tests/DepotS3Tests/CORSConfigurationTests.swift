import HTTPTypes
import Testing

@testable import DepotS3

/// PutBucketCors's validation (S3's errors, the first problem named) and how the rules decide a
/// request: the first rule that allows origin, method and requested headers.
struct CORSConfigurationTests {
    func parse(_ xml: String) throws -> CORSConfiguration { try CORSConfiguration(xml: Array(xml.utf8)) }

    func refusal(_ xml: String) -> (code: String, message: String)? {
        do {
            _ = try parse(xml)
            return nil
        } catch let error as S3Error {
            return (error.code, error.message)
        } catch {
            return ("unexpected \(error)", "")
        }
    }

    func rule(_ body: String) -> String { "<CORSConfiguration><CORSRule>\(body)</CORSRule></CORSConfiguration>" }

    @Test func parsesEveryElementAndWritesItBack() throws {
        let configuration = try parse(
            """
            <?xml version="1.0" encoding="UTF-8"?>
            <CORSConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
              <CORSRule>
                <ID>upload-from-the-player</ID>
                <AllowedOrigin>http://*.example.com</AllowedOrigin>
                <AllowedOrigin>https://player.example.org</AllowedOrigin>
                <AllowedMethod>PUT</AllowedMethod>
                <AllowedMethod>GET</AllowedMethod>
                <AllowedHeader>x-amz-*</AllowedHeader>
                <AllowedHeader>Content-Type</AllowedHeader>
                <ExposeHeader>ETag</ExposeHeader>
                <ExposeHeader>x-amz-request-id</ExposeHeader>
                <MaxAgeSeconds>3000</MaxAgeSeconds>
              </CORSRule>
              <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>HEAD</AllowedMethod></CORSRule>
              <CORSRule>
                <AllowedOrigin>
                  http://on-a-line-of-its-own.example.com
                </AllowedOrigin>
                <AllowedMethod>
                  GET
                </AllowedMethod>
              </CORSRule>
            </CORSConfiguration>
            """)
        #expect(configuration.rules.count == 3)
        #expect(configuration.rules[2].allowedOrigins == ["http://on-a-line-of-its-own.example.com"])
        #expect(configuration.rules[2].allowedMethods == ["GET"])
        let first = configuration.rules[0]
        #expect(first.id == "upload-from-the-player")
        #expect(first.allowedOrigins == ["http://*.example.com", "https://player.example.org"])
        #expect(first.allowedMethods == ["PUT", "GET"])
        #expect(first.allowedHeaders == ["x-amz-*", "Content-Type"])
        #expect(first.exposeHeaders == ["ETag", "x-amz-request-id"])
        #expect(first.maxAgeSeconds == 3000)
        #expect(configuration.rules[1].id == nil && configuration.rules[1].maxAgeSeconds == nil)
        // The stored document reads back as the same configuration.
        #expect(try CORSConfiguration(xml: Array(configuration.document.text.utf8)) == configuration)
    }

    @Test func refusesWhatS3Refuses() {
        let malformed = "MalformedXML"
        #expect(refusal("<CORSConfiguration></CORSConfiguration>")?.code == malformed)
        #expect(refusal("<CORSConfiguration><CORSRule>")?.code == malformed)
        #expect(refusal("<Other><CORSRule/></Other>")?.code == malformed)
        #expect(refusal(rule("<AllowedMethod>GET</AllowedMethod>"))?.code == malformed)  // no origin
        #expect(refusal(rule("<AllowedOrigin>*</AllowedOrigin>"))?.code == malformed)  // no method
        #expect(refusal(rule("<AllowedOrigin></AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))?.code == malformed)
        #expect(
            refusal(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><Color>red</Color>"))?.code
                == malformed)
        for age in ["-1", "ten", "1.5", "99999999999"] {
            #expect(
                refusal(
                    rule(
                        "<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><MaxAgeSeconds>\(age)</MaxAgeSeconds>")
                )?
                .code == malformed, "MaxAgeSeconds \(age)")
        }
        let patch = refusal(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod>"))
        #expect(patch?.code == "InvalidRequest")
        #expect(patch?.message == "Found unsupported HTTP method in CORS config. Unsupported method is PATCH")
        #expect(refusal(rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>get</AllowedMethod>"))?.code == "InvalidRequest")
        let origin = refusal(rule("<AllowedOrigin>http://*.*.example.com</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"))
        #expect(origin?.code == "InvalidRequest")
        #expect(origin?.message == "AllowedOrigin \"http://*.*.example.com\" can not have more than one wildcard.")
        let header = refusal(
            rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedHeader>*-amz-*</AllowedHeader>"))
        #expect(header?.message == "AllowedHeader \"*-amz-*\" can not have more than one wildcard.")
        // An expose header is sent back as a header name: no wildcard, no line break, no space.
        for bad in ["x-*", "a b", "a\r\nSet-Cookie: x"] {
            #expect(
                refusal(
                    rule("<AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><ExposeHeader>\(bad)</ExposeHeader>"))?
                    .code == "InvalidRequest", "ExposeHeader \(bad)")
        }
        let rules = String(
            repeating: "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", count: 101)
        #expect(refusal("<CORSConfiguration>\(rules)</CORSConfiguration>")?.code == "InvalidRequest")
        // The count is checked before the rules, so it is what 101 rules with a bad one are told.
        let badFirst = "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>PATCH</AllowedMethod></CORSRule>"
        #expect(
            refusal("<CORSConfiguration>\(badFirst)\(rules)</CORSConfiguration>")?.message
                == "The number of CORS rules should not exceed allowed limit of 100 rules.")
        let hundred = String(
            repeating: "<CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod></CORSRule>", count: 100)
        #expect(refusal("<CORSConfiguration>\(hundred)</CORSConfiguration>") == nil)
        #expect(
            refusal(
                rule(
                    "<ID>\(String(repeating: "i", count: 256))</ID><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod>"
                ))?
                .code == "InvalidArgument")
    }

    @Test func theEndpointTableRoutesTheCORSOperations() {
        func endpoint(_ method: HTTPRequest.Method, _ target: String) -> S3Endpoint {
            S3Endpoint(S3Request(method: method, target: target, authority: "h", headers: [:], domain: "")!)
        }
        #expect(endpoint(.get, "/b?cors") == .getBucketCors && endpoint(.get, "/b?cors").requiredAction == .list)
        #expect(endpoint(.put, "/b?cors") == .putBucketCors && endpoint(.put, "/b?cors").requiredAction == .write)
        #expect(endpoint(.delete, "/b?cors") == .deleteBucketCors && endpoint(.delete, "/b?cors").requiredAction == .write)
        #expect(endpoint(.post, "/b?cors") == .methodNotAllowed)
        #expect(endpoint(.options, "/b/k") == .preflight && endpoint(.options, "/b/k").requiredAction == nil)
    }

    @Test func wildcardsStandForAnyRunOfCharacters() {
        let cases: [(String, String, Bool)] = [
            ("*", "http://anything", true), ("http://*.example.com", "http://cam.example.com", true),
            ("http://*.example.com", "http://example.com", false), ("http://*.example.com", "https://a.example.com", false),
            ("start*end", "startend", true), ("start*end", "start12end", true), ("start*end", "0start12end", false),
            ("prefix*", "prefix.suffix", true), ("*suffix", "foo.suffix", true), ("*suffix", "foo.suffix.get", false),
            ("ab*ba", "aba", false), ("http://Example.com", "http://example.com", false),
        ]
        for (pattern, value, expected) in cases {
            #expect(CORSConfiguration.wildcard(pattern, matches: value) == expected, "\(pattern) ~ \(value)")
        }
    }

    @Test func theFirstMatchingRuleDecides() throws {
        let configuration = try parse(
            """
            <CORSConfiguration>
              <CORSRule><AllowedOrigin>http://www.example.com</AllowedOrigin><AllowedMethod>PUT</AllowedMethod>
                <AllowedHeader>x-amz-meta-header2</AllowedHeader><AllowedHeader>Content-*</AllowedHeader>
                <ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>60</MaxAgeSeconds></CORSRule>
              <CORSRule><AllowedOrigin>*</AllowedOrigin><AllowedMethod>GET</AllowedMethod><AllowedMethod>HEAD</AllowedMethod></CORSRule>
            </CORSConfiguration>
            """)
        let put = configuration.firstRule(
            origin: "http://www.example.com", method: "PUT", requestHeaders: ["content-type", "x-amz-meta-header2"])
        #expect(put?.allowedMethods == ["PUT"])
        #expect(configuration.firstRule(origin: "http://www.example.com", method: "PUT", requestHeaders: ["x-amz-date"]) == nil)
        #expect(configuration.firstRule(origin: "http://other.example.com", method: "PUT") == nil)
        #expect(configuration.firstRule(origin: "http://other.example.com", method: "GET")?.allowedOrigins == ["*"])
        // A rule without AllowedHeader allows no requested header.
        #expect(configuration.firstRule(origin: "http://x", method: "GET", requestHeaders: ["range"]) == nil)
        #expect(CORSConfiguration.requestedHeaders(" Content-Type ,X-Amz-Date,, ") == ["content-type", "x-amz-date"])

        let headers = Dictionary(
            uniqueKeysWithValues: put!.responseHeaders(origin: "http://www.example.com", allowHeaders: ["content-type"])
                .map { ($0.0.canonicalName, $0.1) })
        #expect(headers["access-control-allow-origin"] == "http://www.example.com")
        #expect(headers["access-control-allow-credentials"] == "true")
        #expect(headers["access-control-allow-methods"] == "PUT")
        #expect(headers["access-control-allow-headers"] == "content-type")
        #expect(headers["access-control-expose-headers"] == "ETag")
        #expect(headers["access-control-max-age"] == "60")
        #expect(headers["vary"]?.hasPrefix("Origin") == true)
        let any = Dictionary(
            uniqueKeysWithValues: configuration.rules[1].responseHeaders(origin: "http://x").map { ($0.0.canonicalName, $0.1) })
        #expect(any["access-control-allow-origin"] == "*")
        #expect(any["access-control-allow-credentials"] == nil)
        #expect(any["access-control-allow-methods"] == "GET, HEAD")
        #expect(any["access-control-max-age"] == nil && any["access-control-expose-headers"] == nil)
    }
}
