import DepotSigV4
import Testing

struct AuthorizationParsingTests {
    static func isMalformed(_ error: SigV4Error?) -> Bool {
        if case .malformedAuthorization = error { return true }
        return false
    }

    let signature = "fe5f80f77d5fa3beca038a248ff027d0445342fe2855ddc963176630326f1024"

    @Test func parsesWithOrWithoutSpacesAfterCommas() throws {
        for separator in [",", ", ", " ,  "] {
            let header = try AuthorizationHeader(
                parsing: "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request"
                    + separator + "SignedHeaders=host;range;x-amz-date" + separator + "Signature=\(signature)")
            #expect(header.accessKey == "AKIAIOSFODNN7EXAMPLE")
            #expect(header.scope == Fixtures.s3Scope)
            #expect(header.signedHeaders == ["host", "range", "x-amz-date"])
            #expect(header.signature == signature)
            #expect(try AuthorizationHeader(parsing: header.value) == header)
        }
    }

    @Test func acceptsFieldsInAnyOrderAndAccessKeysWithSlashes() throws {
        let header = try AuthorizationHeader(
            parsing: "  AWS4-HMAC-SHA256   Signature=\(signature.uppercased()),SignedHeaders=host,"
                + "Credential=team/camera-1/20130524/eu-west-1/s3/aws4_request  ")
        #expect(header.accessKey == "team/camera-1")
        #expect(header.scope.region == "eu-west-1")
        #expect(header.signature == signature)
    }

    @Test(arguments: [
        ("AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg=", SigV4Error.unsupportedAlgorithm("AWS")),
        (
            "AWS4-ECDSA-P256-SHA256 Credential=A/20130524/s3/aws4_request",
            .unsupportedAlgorithm("AWS4-ECDSA-P256-SHA256")
        ),
        ("Bearer", .unsupportedAlgorithm("Bearer")),
        ("AWS4-HMAC-SHA256", .missingAuthorizationField("Credential")),
        ("AWS4-HMAC-SHA256 SignedHeaders=host, Signature=SIG", .missingAuthorizationField("Credential")),
        (
            "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, Signature=SIG",
            .missingAuthorizationField("SignedHeaders")
        ),
        (
            "AWS4-HMAC-SHA256 Credential=A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host",
            .missingAuthorizationField("Signature")
        ),
    ])
    func refusesOtherSchemesAndMissingFields(value: String, error: SigV4Error) {
        let value = value.replacing("SIG", with: signature)
        #expect(throws: error) { try AuthorizationHeader(parsing: value) }
    }

    @Test(arguments: [
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG, Signature=SIG",  // repeated
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG, Extra=1",  // unknown field
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=SIG,",  // trailing comma
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=abc",  // short signature
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=\(String(repeating: "g", count: 64))",
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=host;;x-amz-date, Signature=SIG",
        "A/20130524/us-east-1/s3/aws4_request, SignedHeaders=, Signature=SIG",
    ])
    func refusesMalformedHeaders(rest: String) {
        let value = "AWS4-HMAC-SHA256 Credential=" + rest.replacing("SIG", with: signature)
        let error = #expect(throws: SigV4Error.self) { try AuthorizationHeader(parsing: value) }
        #expect(Self.isMalformed(error), "\(String(describing: error))")
    }

    @Test(arguments: [
        "/20130524/us-east-1/s3/aws4_request", "A/2013052/us-east-1/s3/aws4_request",
        "A/20130532/us-east-1/s3/aws4_request", "A/20130524/us-east-1/s3/aws5_request",
        "A/20130524//s3/aws4_request", "A/20130524/us-east-1//aws4_request", "A/20130524/us-east-1/s3",
        "A", "",
    ])
    func refusesMalformedCredentials(credential: String) {
        let value = "AWS4-HMAC-SHA256 Credential=\(credential), SignedHeaders=host, Signature=\(signature)"
        #expect(throws: SigV4Error.malformedCredential(credential)) { try AuthorizationHeader(parsing: value) }
    }

    static let presigned = S3ExampleTests.presignedQuery

    @Test func parsesPresignedQueries() throws {
        let query = try PresignedQuery(parsing: Self.presigned + "&X-Amz-Security-Token=a%2Bb")
        #expect(query.accessKey == "AKIAIOSFODNN7EXAMPLE")
        #expect(query.scope == Fixtures.s3Scope)
        #expect(query.time.unixSeconds == Fixtures.s3Time)
        #expect(query.expires == 86_400)
        #expect(query.signedHeaders == ["host"])
        #expect(query.securityToken == "a+b")
        #expect(query.contentSHA256 == nil)
        #expect(PresignedQuery.isPresigned(rawQuery: Self.presigned))
        #expect(!PresignedQuery.isPresigned(rawQuery: "prefix=X-Amz-Date&list-type=2"))
        #expect(!PresignedQuery.isPresigned(rawQuery: ""))
    }

    func presigned(replacing name: String, with replacement: String?) -> String {
        let parts = Self.presigned.split(separator: "&").compactMap { part -> String? in
            guard part.hasPrefix(name + "=") else { return String(part) }
            return replacement.map { name + "=" + $0 }
        }
        return parts.joined(separator: "&")
    }

    @Test(arguments: [
        "X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-Expires", "X-Amz-SignedHeaders",
        "X-Amz-Signature",
    ])
    func refusesPresignedQueriesMissingAParameter(name: String) {
        #expect(throws: SigV4Error.missingAuthorizationField(name)) {
            try PresignedQuery(parsing: presigned(replacing: name, with: nil))
        }
    }

    @Test func refusesBadPresignedValues() throws {
        #expect(throws: SigV4Error.unsupportedAlgorithm("AWS4-HMAC-SHA1")) {
            try PresignedQuery(parsing: presigned(replacing: "X-Amz-Algorithm", with: "AWS4-HMAC-SHA1"))
        }
        for expires in ["0", "604801", "-1", "1.5", "", "86400s", "99999999999999999999"] {
            #expect(throws: SigV4Error.malformedExpires(expires)) {
                try PresignedQuery(parsing: presigned(replacing: "X-Amz-Expires", with: expires))
            }
        }
        #expect(try PresignedQuery(parsing: presigned(replacing: "X-Amz-Expires", with: "604800")).expires == 604_800)
        #expect(throws: SigV4Error.malformedDate("2013-05-24")) {
            try PresignedQuery(parsing: presigned(replacing: "X-Amz-Date", with: "2013-05-24"))
        }
        #expect(throws: SigV4Error.malformedQuery) { try PresignedQuery(parsing: Self.presigned + "&x=%") }
        let repeated = #expect(throws: SigV4Error.self) {
            try PresignedQuery(parsing: Self.presigned + "&X-Amz-Date=20130524T000000Z")
        }
        #expect(Self.isMalformed(repeated))
    }

    @Test func payloadHashValues() {
        #expect(PayloadHash("UNSIGNED-PAYLOAD") == .unsigned)
        #expect(PayloadHash("STREAMING-AWS4-HMAC-SHA256-PAYLOAD") == .streamingSigned)
        #expect(PayloadHash("STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER") == .streamingSignedWithTrailer)
        #expect(PayloadHash("STREAMING-UNSIGNED-PAYLOAD-TRAILER") == .streamingUnsignedWithTrailer)
        #expect(PayloadHash("STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD") == nil)
        #expect(PayloadHash(Fixtures.emptySHA256) == .sha256(Fixtures.sha256([])))
        #expect(PayloadHash(Fixtures.emptySHA256)?.value == Fixtures.emptySHA256)
        #expect(PayloadHash("e3b0c442") == nil)
        #expect(PayloadHash(String(repeating: "z", count: 64)) == nil)
        #expect(PayloadHash.streamingSigned.isStreaming && !PayloadHash.unsigned.isStreaming)
    }
}
