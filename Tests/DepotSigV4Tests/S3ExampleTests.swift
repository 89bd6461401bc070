import DepotSigV4
import Testing

/// The worked examples of the S3 API reference ("Signature Calculations for the Authorization Header" and
/// "Authenticating Requests: Using Query Parameters"), signed by the signer and accepted by the verifier.
struct S3ExampleTests {
    let host: (name: String, value: String) = ("Host", "examplebucket.s3.amazonaws.com")

    /// Signs like the tier client would, checks the signature, then feeds the signed request to the verifier.
    func signAndVerify(
        _ method: String, _ rawPath: String, _ rawQuery: String = "", headers: [(name: String, value: String)],
        payloadHash: String, signature: String, signedHeaders: String
    ) throws {
        let request = SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers)
        let added = try Fixtures.s3Signer.sign(request, payloadHash: payloadHash, time: Fixtures.s3Time)
        let authorization = try #require(Fixtures.header("authorization", in: added))
        #expect(
            authorization
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request, "
                + "SignedHeaders=\(signedHeaders), Signature=\(signature)")
        #expect(Fixtures.header("x-amz-content-sha256", in: added) == payloadHash)

        let received = SigV4Request(method: method, rawPath: rawPath, rawQuery: rawQuery, headers: headers + added)
        let claim = try #require(try Fixtures.s3Verifier.claim(of: received))
        #expect(claim.kind == .header)
        #expect(claim.accessKey == "AKIAIOSFODNN7EXAMPLE")
        #expect(claim.scope == Fixtures.s3Scope)
        #expect(claim.time.unixSeconds == Fixtures.s3Time)
        let verified = try Fixtures.s3Verifier.verify(
            claim, secretKey: Fixtures.s3Credentials.secretKey, now: Fixtures.s3Time + 60)
        #expect(verified.accessKey == "AKIAIOSFODNN7EXAMPLE")
        #expect(verified.claim.signature == signature)
    }

    @Test func getObjectWithRange() throws {
        let headers = [host, ("Range", "bytes=0-9")]
        let canonical = try CanonicalRequest(
            method: "GET", rawPath: "/test.txt", rawQuery: "",
            headers: headers + [
                ("x-amz-content-sha256", Fixtures.emptySHA256), ("x-amz-date", "20130524T000000Z"),
            ],
            signedHeaders: ["host", "range", "x-amz-content-sha256", "x-amz-date"], payloadHash: Fixtures.emptySHA256)
        #expect(canonical.hashHex == "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        #expect(
            canonical.stringToSign(time: AmzDate(unixSeconds: Fixtures.s3Time), scope: Fixtures.s3Scope)
                == "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
                + "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972")
        try signAndVerify(
            "GET", "/test.txt", headers: headers, payloadHash: Fixtures.emptySHA256,
            signature: "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41",
            signedHeaders: "host;range;x-amz-content-sha256;x-amz-date")
    }

    @Test func putObject() throws {
        let payload = PayloadHash(body: Array("Welcome to Amazon S3.".utf8)).value
        #expect(payload == "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072")
        // The key `test$file.text` is sent raw here: the canonical URI still encodes `$` as %24.
        try signAndVerify(
            "PUT", "/test$file.text",
            headers: [host, ("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: payload, signature: "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd",
            signedHeaders: "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class")
    }

    @Test func getBucketLifecycle() throws {
        try signAndVerify(
            "GET", "/", "lifecycle", headers: [host], payloadHash: Fixtures.emptySHA256,
            signature: "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date")
    }

    @Test func listObjects() throws {
        try signAndVerify(
            "GET", "/", "max-keys=2&prefix=J", headers: [host], payloadHash: Fixtures.emptySHA256,
            signature: "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7",
            signedHeaders: "host;x-amz-content-sha256;x-amz-date")
    }

    static let presignedQuery =
        "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2F"
        + "aws4_request&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host"
        + "&X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"

    @Test func presignedGetObject() throws {
        let request = SigV4Request(method: "GET", rawPath: "/test.txt", headers: [host])
        let query = try Fixtures.s3Signer.presign(request, expires: 86_400, time: Fixtures.s3Time)
        #expect(query == Self.presignedQuery)
        let canonical = try CanonicalRequest(
            method: "GET", rawPath: "/test.txt", rawQuery: query, headers: [host], signedHeaders: ["host"],
            payloadHash: "UNSIGNED-PAYLOAD", excludingQueryParameters: ["X-Amz-Signature"])
        #expect(canonical.hashHex == "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04")
    }

    @Test func presignedGetObjectIsAcceptedUntilItExpires() throws {
        let request = SigV4Request(method: "GET", rawPath: "/test.txt", rawQuery: Self.presignedQuery, headers: [host])
        let claim = try #require(try Fixtures.s3Verifier.claim(of: request))
        #expect(claim.kind == .presigned(expires: 86_400))
        #expect(claim.payload == .unsigned)
        let secret = Fixtures.s3Credentials.secretKey
        for now in [Fixtures.s3Time - 600, Fixtures.s3Time, Fixtures.s3Time + 86_400] {
            _ = try Fixtures.s3Verifier.verify(claim, secretKey: secret, now: now)
        }
        #expect(throws: SigV4Error.expired) {
            try Fixtures.s3Verifier.verify(claim, secretKey: secret, now: Fixtures.s3Time + 86_401)
        }
        #expect(throws: SigV4Error.notYetValid) {
            try Fixtures.s3Verifier.verify(claim, secretKey: secret, now: Fixtures.s3Time - 901)
        }
        #expect(throws: SigV4Error.signatureMismatch) {
            try Fixtures.s3Verifier.verify(claim, secretKey: "wrong", now: Fixtures.s3Time)
        }
    }
}
