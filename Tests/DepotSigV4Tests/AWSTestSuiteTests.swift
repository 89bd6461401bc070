import DepotSigV4
import Testing

/// Vectors of the AWS SigV4 test suite (`aws-sig-v4-test-suite`) and the IAM walkthrough of the SigV4 guide.
struct AWSTestSuiteTests {
    let vanillaPrefix =
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
        + "SignedHeaders=host;x-amz-date, "

    func sign(
        _ rawPath: String, _ rawQuery: String = "", method: String = "GET",
        headers: [(name: String, value: String)] = [("Host", "example.amazonaws.com")],
        payloadHash: String = Fixtures.emptySHA256, signer: SigV4Signer = Fixtures.suiteSigner
    ) throws -> [(name: String, value: String)] {
        try signer.sign(
            SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers),
            payloadHash: payloadHash, time: Fixtures.suiteTime)
    }

    @Test func signingKeyOfTheGuide() {
        let key = SigningKey(
            secretKey: Fixtures.suiteCredentials.secretKey,
            scope: CredentialScope(date: "20150830", region: "us-east-1", service: "iam"))
        #expect(Fixtures.hex(key.bytes) == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect("\(key)" == "SigningKey(redacted)")
    }

    @Test func getVanilla() throws {
        let canonical = try CanonicalRequest(
            method: "GET", rawPath: "/", rawQuery: "",
            headers: [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")],
            signedHeaders: ["host", "x-amz-date"], payloadHash: Fixtures.emptySHA256, pathStyle: .doubleEncoded)
        #expect(
            canonical.text
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n"
                + Fixtures.emptySHA256)
        #expect(canonical.hashHex == "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63")
        let added = try sign("/")
        #expect(added.map(\.name) == ["x-amz-date", "authorization"])
        #expect(Fixtures.header("x-amz-date", in: added) == "20150830T123600Z")
        #expect(
            Fixtures.header("authorization", in: added)
                == vanillaPrefix + "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func getVanillaQueryOrderKeyCase() throws {
        let added = try sign("/", "Param2=value2&Param1=value1")
        #expect(
            Fixtures.header("authorization", in: added)
                == vanillaPrefix + "Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func getUTF8() throws {
        let expected = "8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85"
        // The suite writes the path unencoded; encoded once on the wire it canonicalises the same way S3 style.
        let double = try sign("/ሴ")
        #expect(Fixtures.signature(in: Fixtures.header("authorization", in: double)!) == expected)
        let s3Style = SigV4Signer(
            credentials: Fixtures.suiteCredentials, region: "us-east-1", service: "service", pathStyle: .s3)
        let single = try sign("/%E1%88%B4", signer: s3Style)
        #expect(Fixtures.signature(in: Fixtures.header("authorization", in: single)!) == expected)
    }

    @Test(arguments: ["//", "/example/..", "/example1/example2/../..", "/./", "/example/../."])
    func normalizedPathsSignAsVanilla(path: String) throws {
        let added = try sign(path)
        #expect(
            Fixtures.signature(in: Fixtures.header("authorization", in: added)!)
                == "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")
    }

    @Test func postXWWWFormURLEncoded() throws {
        let body = Array("Param1=value1".utf8)
        let payload = PayloadHash(body: body).value
        #expect(payload == "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e")
        let added = try sign(
            "/", method: "POST",
            headers: [("Content-Type", "application/x-www-form-urlencoded"), ("Host", "example.amazonaws.com")],
            payloadHash: payload)
        #expect(
            Fixtures.header("authorization", in: added)
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, "
                + "Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a")
    }

    @Test func iamListUsersWalkthrough() throws {
        let signer = SigV4Signer(credentials: Fixtures.suiteCredentials, region: "us-east-1", service: "iam")
        let headers: [(name: String, value: String)] = [
            ("content-type", "application/x-www-form-urlencoded; charset=utf-8"), ("host", "iam.amazonaws.com"),
        ]
        let canonical = try CanonicalRequest(
            method: "GET", rawPath: "/", rawQuery: "Action=ListUsers&Version=2010-05-08",
            headers: headers + [("x-amz-date", "20150830T123600Z")],
            signedHeaders: ["content-type", "host", "x-amz-date"], payloadHash: Fixtures.emptySHA256,
            pathStyle: .doubleEncoded)
        #expect(canonical.hashHex == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        let added = try sign("/", "Action=ListUsers&Version=2010-05-08", headers: headers, signer: signer)
        #expect(
            Fixtures.signature(in: Fixtures.header("authorization", in: added)!)
                == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
    }

    @Test func sessionTokenIsSentAndSigned() throws {
        let signer = SigV4Signer(
            credentials: SigV4Credentials(
                accessKey: "AKIDEXAMPLE", secretKey: Fixtures.suiteCredentials.secretKey, sessionToken: "TOKEN"),
            region: "us-east-1", service: "service")
        let added = try sign("/", signer: signer)
        #expect(added.map(\.name) == ["x-amz-date", "x-amz-security-token", "authorization"])
        #expect(
            Fixtures.header("authorization", in: added)!.contains("SignedHeaders=host;x-amz-date;x-amz-security-token,")
        )
        #expect("\(signer.credentials)".contains("redacted"))
        #expect(!"\(signer.credentials)".contains(Fixtures.suiteCredentials.secretKey))
    }
}
