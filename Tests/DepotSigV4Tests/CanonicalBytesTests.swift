import Testing

@testable import DepotSigV4

/// The verifier's byte path (the canonical request and string to sign written into one buffer, the signature
/// compared as bytes) against published vectors: the AWS SigV4 test suite (`aws-sig-v4-test-suite`: creq, sts,
/// authz) and the S3 API reference's worked examples. Each request is received as a server receives it, with
/// the Authorization header the vector publishes.
struct CanonicalBytesTests {
    static let emptySHA256 = PayloadHash.emptySHA256Hex
    let suiteVerifier = SigV4Verifier(region: "us-east-1", service: "service")

    /// The suite's requests carry no `x-amz-content-sha256` (the verifier needs one): it is added unsigned, with
    /// the empty body's hash the suite signs.
    func suiteClaim(
        _ rawPath: String, _ rawQuery: String = "", method: String = "GET", headers: [SigV4Header],
        signedHeaders: String, signature: String
    ) throws -> SigV4Claim {
        let authorization =
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
            + "SignedHeaders=\(signedHeaders), Signature=\(signature)"
        let request = SigV4Request(
            method: method, rawPath: rawPath, rawQuery: rawQuery,
            headers: [("Host", "example.amazonaws.com")] + headers + [
                ("X-Amz-Date", "20150830T123600Z"), ("X-Amz-Content-Sha256", Self.emptySHA256),
                ("Authorization", authorization),
            ])
        return try #require(try suiteVerifier.claim(of: request))
    }

    func canonicalText(_ verifier: SigV4Verifier, _ claim: SigV4Claim) throws -> String {
        var bytes = [UInt8]()
        try verifier.appendCanonicalRequest(of: claim, to: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    func stringToSign(_ verifier: SigV4Verifier, _ claim: SigV4Claim) throws -> String {
        String(decoding: try verifier.stringToSignBytes(of: claim), as: UTF8.self)
    }

    static func suiteStringToSign(_ canonicalHash: String) -> String {
        "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n" + canonicalHash
    }

    @Test func getVanilla() throws {
        let claim = try suiteClaim(
            "/", headers: [], signedHeaders: "host;x-amz-date",
            signature: "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
        #expect(
            try canonicalText(suiteVerifier, claim)
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + Self.emptySHA256)
        #expect(
            try stringToSign(suiteVerifier, claim)
                == Self.suiteStringToSign("bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63"))
        _ = try suiteVerifier.verify(claim, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
    }

    /// Leading blanks trimmed, the run of blanks inside the quotes folded to one space.
    @Test func getHeaderValueTrim() throws {
        let claim = try suiteClaim(
            "/", headers: [("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            signedHeaders: "host;my-header1;my-header2;x-amz-date",
            signature: "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
        #expect(
            try canonicalText(suiteVerifier, claim)
                == "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\n" + Self.emptySHA256)
        #expect(
            try stringToSign(suiteVerifier, claim)
                == Self.suiteStringToSign("a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7"))
        _ = try suiteVerifier.verify(claim, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
    }

    /// A header sent three times: its values joined with `,` in the order they arrived, not sorted.
    @Test func getHeaderKeyDuplicate() throws {
        let claim = try suiteClaim(
            "/", headers: [("My-Header1", "value2"), ("My-Header1", "value2"), ("My-Header1", "value1")],
            signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")
        #expect(
            try canonicalText(suiteVerifier, claim)
                == "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value2,value2,value1\n"
                + "x-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\n" + Self.emptySHA256)
        #expect(
            try stringToSign(suiteVerifier, claim)
                == Self.suiteStringToSign("dc7f04a3abfde8d472b0ab1a418b741b7c67174dad1551b4117b15527fbe966c"))
        _ = try suiteVerifier.verify(claim, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
    }

    @Test func getHeaderValueOrder() throws {
        let claim = try suiteClaim(
            "/",
            headers: [
                ("My-Header1", "value4"), ("My-Header1", "value1"), ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ], signedHeaders: "host;my-header1;x-amz-date",
            signature: "08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01")
        #expect(try canonicalText(suiteVerifier, claim).contains("\nmy-header1:value4,value1,value3,value2\n"))
        _ = try suiteVerifier.verify(claim, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
    }

    @Test func getVanillaQueryOrderKeyCaseAndGetSpace() throws {
        let query = try suiteClaim(
            "/", "Param2=value2&Param1=value1", headers: [], signedHeaders: "host;x-amz-date",
            signature: "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
        #expect(try canonicalText(suiteVerifier, query).hasPrefix("GET\n/\nParam1=value1&Param2=value2\nhost:"))
        _ = try suiteVerifier.verify(query, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
        // Every service but S3 normalises the path and encodes it (as it arrives) once more.
        let space = try suiteClaim(
            "/example space/", headers: [], signedHeaders: "host;x-amz-date",
            signature: "652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741")
        #expect(try canonicalText(suiteVerifier, space).hasPrefix("GET\n/example%20space/\n\nhost:"))
        _ = try suiteVerifier.verify(space, secretKey: Fixtures.suiteCredentials.secretKey, now: Fixtures.suiteTime)
    }

    /// S3's GET Object example: the signature must match byte for byte, and one changed byte must not.
    @Test func s3GetObjectExample() throws {
        let authorization =
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            + "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            + "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        let request = SigV4Request(
            method: "GET", rawPath: "/test.txt",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("range", "bytes=0-9"),
                ("x-amz-content-sha256", Self.emptySHA256), ("x-amz-date", "20130524T000000Z"),
                ("authorization", authorization),
            ])
        let claim = try #require(try Fixtures.s3Verifier.claim(of: request))
        #expect(
            try canonicalText(Fixtures.s3Verifier, claim)
                == "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
                + "x-amz-content-sha256:\(Self.emptySHA256)\nx-amz-date:20130524T000000Z\n\n"
                + "host;range;x-amz-content-sha256;x-amz-date\n\(Self.emptySHA256)")
        #expect(
            try stringToSign(Fixtures.s3Verifier, claim)
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        let secret = Fixtures.s3Credentials.secretKey
        _ = try Fixtures.s3Verifier.verify(claim, secretKey: secret, now: Fixtures.s3Time)
        // Upper-case hex spells the same signature.
        var upper = request
        upper.headers[4].value = String(authorization.dropLast(64)) + authorization.suffix(64).uppercased()
        let upperClaim = try #require(try Fixtures.s3Verifier.claim(of: upper))
        _ = try Fixtures.s3Verifier.verify(upperClaim, secretKey: secret, now: Fixtures.s3Time)
        var tampered = request
        tampered.headers[1].value = "bytes=0-8"
        let tamperedClaim = try #require(try Fixtures.s3Verifier.claim(of: tampered))
        #expect(throws: SigV4Error.signatureMismatch) {
            try Fixtures.s3Verifier.verify(tamperedClaim, secretKey: secret, now: Fixtures.s3Time)
        }
    }

    /// S3's presigned GET example: the query minus `X-Amz-Signature` is the canonical query.
    @Test func s3PresignedExample() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/test.txt", rawQuery: S3ExampleTests.presignedQuery,
            headers: [("Host", "examplebucket.s3.amazonaws.com")])
        let claim = try #require(try Fixtures.s3Verifier.claim(of: request))
        #expect(
            try canonicalText(Fixtures.s3Verifier, claim)
                == "GET\n/test.txt\nX-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524"
                + "%2Fus-east-1%2Fs3%2Faws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400"
                + "&X-Amz-SignedHeaders=host\nhost:examplebucket.s3.amazonaws.com\n\nhost\nUNSIGNED-PAYLOAD")
        #expect(
            try stringToSign(Fixtures.s3Verifier, claim).hasSuffix(
                "\n3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04"))
    }

    /// The string form (`CanonicalRequest`, for the signer and logs) and the byte form give the same text.
    @Test func stringAndByteFormsAgree() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/b/a%20b/c+d$", rawQuery: "z=1&a=%7e&uploads",
            headers: [("Host", "h:9000"), ("X-Amz-Meta-A", "  x \t y  "), ("x-amz-meta-a", "2")])
        let added = try Fixtures.s3Signer.sign(request, payloadHash: Self.emptySHA256, time: Fixtures.s3Time)
        let received = SigV4Request(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery,
            headers: request.headers + added)
        let claim = try #require(try Fixtures.s3Verifier.claim(of: received))
        let canonical = try Fixtures.s3Verifier.canonicalRequest(of: claim)
        #expect(try canonicalText(Fixtures.s3Verifier, claim) == canonical.text)
        #expect(canonical.uri == "/b/a%20b/c%2Bd%24")
        #expect(canonical.query == "a=~&uploads=&z=1")
        #expect(canonical.headers.contains("x-amz-meta-a:x y,2\n"))
        #expect(
            try stringToSign(Fixtures.s3Verifier, claim)
                == canonical.stringToSign(time: claim.time, scope: claim.scope))
        _ = try Fixtures.s3Verifier.verify(claim, secretKey: Fixtures.s3Credentials.secretKey, now: Fixtures.s3Time)
    }

    @Test func malformedPathAndMissingSignedHeaderAreRefused() throws {
        let claim = try suiteClaim(
            "/", headers: [], signedHeaders: "host;my-header1;x-amz-date",
            signature: "c9d5ea9f3f72853aea855b47ea873832890dbdd183b4468f858259531a5138ea")
        #expect(throws: SigV4Error.missingHeader("my-header1")) { try suiteVerifier.stringToSignBytes(of: claim) }
        let request = SigV4Request(
            method: "GET", rawPath: "/bad%zz",
            headers: [
                ("host", "examplebucket.s3.amazonaws.com"), ("x-amz-content-sha256", Self.emptySHA256),
                ("x-amz-date", "20130524T000000Z"),
                (
                    "authorization",
                    "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
                        + "SignedHeaders=host;x-amz-date,Signature=" + String(repeating: "0", count: 64)
                ),
            ])
        let bad = try #require(try Fixtures.s3Verifier.claim(of: request))
        #expect(throws: SigV4Error.malformedPath) { try Fixtures.s3Verifier.stringToSignBytes(of: bad) }
    }

    @Test func hex32DecodesEitherCaseAndNothingElse() {
        let lower = String(repeating: "0a", count: 32)
        #expect(CanonicalBytes.decodeHex32(lower) == [UInt8](repeating: 0x0a, count: 32))
        #expect(CanonicalBytes.decodeHex32(lower.uppercased()) == [UInt8](repeating: 0x0a, count: 32))
        #expect(CanonicalBytes.decodeHex32(String(lower.dropLast())) == nil)
        #expect(CanonicalBytes.decodeHex32(String(lower.dropLast()) + "g") == nil)
        #expect(CanonicalBytes.decodeHex32(lower + "00") == nil)
    }

    @Test func dayStampsAreWrittenAndCheckedWithoutStrings() {
        let time = AmzDate(unixSeconds: Fixtures.suiteTime)
        #expect(time.iso8601Basic == "20150830T123600Z")
        #expect(time.dateStamp == "20150830")
        #expect(time.isOnDay("20150830"))
        #expect(!time.isOnDay("20150831"))
        #expect(!time.isOnDay("2015083"))
        #expect(AmzDate(unixSeconds: 0).iso8601Basic == "19700101T000000Z")
        #expect(AmzDate(unixSeconds: -1).iso8601Basic == "19691231T235959Z")
        #expect(AmzDate.isValidDateStamp("20240229".utf8))
        #expect(!AmzDate.isValidDateStamp("20230229".utf8))
        #expect(!AmzDate.isValidDateStamp("20130231".utf8))
        #expect(!AmzDate.isValidDateStamp("2013052".utf8))
        #expect(!AmzDate.isValidDateStamp("2013O524".utf8))
        #expect(AmzDate(iso8601Basic: "20150830T123600Z")?.unixSeconds == Fixtures.suiteTime)
        #expect(AmzDate(iso8601Basic: "20150830T123600") == nil)
        #expect(AmzDate(iso8601Basic: "20150830X123600Z") == nil)
        #expect(AmzDate(iso8601Basic: "20150830T246000Z") == nil)
    }
}
