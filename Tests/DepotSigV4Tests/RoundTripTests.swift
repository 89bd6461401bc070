import DepotSigV4
import Testing

/// The signer's output verified by the verifier, and every way of breaking it.
struct RoundTripTests {
    let secret = "camera-secret-0123456789"
    let time = 1_700_000_000
    var signer: SigV4Signer {
        SigV4Signer(
            credentials: SigV4Credentials(accessKey: "CAM1", secretKey: secret), region: "us-east-1", service: "s3")
    }
    let verifier = SigV4Verifier(region: "us-east-1")
    let body = Array("recording bytes".utf8)

    func signedPut(path: String = "/recordings/camera-1/clip%201.mp4", query: String = "x-id=PutObject")
        throws -> SigV4Request
    {
        let request = SigV4Request(
            method: "PUT", rawPath: path, rawQuery: query,
            headers: [("Host", "depot.local:9000"), ("Content-Type", "video/mp4"), ("x-amz-meta-camera", "front door")])
        let added = try signer.sign(request, payloadHash: PayloadHash(body: body).value, time: time)
        var signed = request
        signed.headers += added + [("User-Agent", "test/1.0")]  // unsigned, added after signing
        return signed
    }

    func verify(_ request: SigV4Request, secret: String? = nil, now: Int? = nil) throws -> SigV4Verified {
        let claim = try #require(try verifier.claim(of: request))
        return try verifier.verify(claim, secretKey: secret ?? self.secret, now: now ?? time)
    }

    @Test func signedRequestVerifies() throws {
        let verified = try verify(try signedPut())
        #expect(verified.accessKey == "CAM1")
        #expect(verified.payload == .sha256(Fixtures.sha256(body)))
        #expect(
            verified.claim.signedHeaders == [
                "content-type", "host", "x-amz-content-sha256", "x-amz-date", "x-amz-meta-camera",
            ])
    }

    @Test func tamperingBreaksTheSignature() throws {
        let good = try signedPut()
        var variants = [SigV4Request]()
        var request = good
        request.method = "POST"
        variants.append(request)
        request = good
        request.rawPath = "/recordings/camera-2/clip%201.mp4"
        variants.append(request)
        request = good
        request.rawQuery = "x-id=PutObjects"
        variants.append(request)
        request = good
        request.rawQuery += "&acl"
        variants.append(request)
        request = good
        request.headers = request.headers.map { $0.name == "x-amz-meta-camera" ? ($0.name, "back door") : $0 }
        variants.append(request)
        request = good
        request.headers.append(("x-amz-meta-camera", "second value"))  // repeated headers are joined and signed
        variants.append(request)
        request = good
        request.headers = request.headers.map {
            $0.name == "x-amz-content-sha256" ? ($0.name, PayloadHash(body: Array("other".utf8)).value) : $0
        }
        variants.append(request)
        for variant in variants {
            #expect(throws: SigV4Error.signatureMismatch) { try verify(variant) }
        }
        #expect(throws: SigV4Error.signatureMismatch) { try verify(good, secret: "wrong-secret") }
    }

    @Test func equivalentEncodingsStillVerify() throws {
        // Same path and query, written differently on the wire: raw `$`, lower-case escapes, `+` for a space.
        var request = try signedPut(path: "/recordings/a%24b%2Fc", query: "prefix=a%20b")
        request.rawPath = "/recordings/a$b%2fc"
        request.rawQuery = "prefix=a+b"
        _ = try verify(request)
    }

    @Test func refusesSkewedTimes() throws {
        let request = try signedPut()
        _ = try verify(request, now: time + 900)
        _ = try verify(request, now: time - 900)
        #expect(throws: SigV4Error.requestTimeTooSkewed) { try verify(request, now: time + 901) }
        #expect(throws: SigV4Error.requestTimeTooSkewed) { try verify(request, now: time - 901) }
    }

    @Test func refusesMissingOrBadHeaders() throws {
        let good = try signedPut()
        func without(_ name: String) -> SigV4Request {
            var request = good
            request.headers.removeAll { $0.name.lowercased() == name }
            return request
        }
        #expect(throws: SigV4Error.missingHeader("content-type")) { try verify(without("content-type")) }
        #expect(throws: SigV4Error.missingHeader("x-amz-content-sha256")) {
            try verify(without("x-amz-content-sha256"))
        }
        #expect(throws: SigV4Error.missingDate) { try verify(without("x-amz-date")) }
        var request = good
        request.headers = request.headers.map { $0.name == "x-amz-date" ? ($0.name, "2023-11-14T22:13:20Z") : $0 }
        #expect(throws: SigV4Error.malformedDate("2023-11-14T22:13:20Z")) { try verify(request) }
        request = good
        request.headers = request.headers.map { $0.name == "x-amz-content-sha256" ? ($0.name, "abc") : $0 }
        #expect(throws: SigV4Error.invalidContentSHA256("abc")) { try verify(request) }
        request = good
        request.headers.append(("Authorization", "AWS4-HMAC-SHA256 Credential=x"))
        #expect(throws: SigV4Error.self) { try verify(request) }
        request = good
        request.rawPath = "/recordings/100%"
        #expect(throws: SigV4Error.malformedPath) { try verify(request) }
        request = good
        request.rawQuery = "a=%"
        #expect(throws: SigV4Error.malformedQuery) { try verify(request) }
    }

    /// Rebuilds the Authorization header of a signed request with other fields and re-signs it properly, so that
    /// only the check under test can fail.
    func resigned(scope: CredentialScope, signedHeaders: [String], extraHeaders: [(name: String, value: String)] = [])
        throws -> SigV4Request
    {
        var request = try signedPut()
        request.headers.removeAll { $0.name == "authorization" }
        request.headers += extraHeaders
        let canonical = try CanonicalRequest(
            method: request.method, rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers,
            signedHeaders: signedHeaders, payloadHash: PayloadHash(body: body).value)
        let key = SigningKey(secretKey: secret, scope: scope)
        let date = AmzDate(unixSeconds: time)
        let header = AuthorizationHeader(
            accessKey: "CAM1", scope: scope, signedHeaders: signedHeaders,
            signature: key.signatureHex(canonical.stringToSign(time: date, scope: scope)))
        request.headers.append(("Authorization", header.value))
        return request
    }

    @Test func refusesScopesThatDoNotMatch() throws {
        let names = ["host", "x-amz-content-sha256", "x-amz-date"]
        let date = AmzDate(unixSeconds: time)
        _ = try verify(
            try resigned(scope: CredentialScope(time: date, region: "us-east-1", service: "s3"), signedHeaders: names))
        #expect(throws: SigV4Error.scopeDateMismatch(scope: "20231113", request: "20231114")) {
            try verify(
                try resigned(
                    scope: CredentialScope(date: "20231113", region: "us-east-1", service: "s3"), signedHeaders: names))
        }
        #expect(throws: SigV4Error.wrongRegion(expected: "us-east-1", received: "eu-west-1")) {
            try verify(
                try resigned(
                    scope: CredentialScope(time: date, region: "eu-west-1", service: "s3"), signedHeaders: names))
        }
        #expect(throws: SigV4Error.wrongService(expected: "s3", received: "sqs")) {
            try verify(
                try resigned(
                    scope: CredentialScope(time: date, region: "us-east-1", service: "sqs"), signedHeaders: names))
        }
        #expect(throws: SigV4Error.hostNotSigned) {
            try verify(
                try resigned(
                    scope: CredentialScope(time: date, region: "us-east-1", service: "s3"),
                    signedHeaders: ["x-amz-content-sha256", "x-amz-date"]))
        }
        // A verifier without a configured region takes any region.
        let anyRegion = SigV4Verifier()
        let request = try resigned(
            scope: CredentialScope(time: date, region: "eu-west-1", service: "s3"), signedHeaders: names)
        _ = try anyRegion.verify(try #require(try anyRegion.claim(of: request)), secretKey: secret, now: time)
    }

    @Test func acceptsTheDateHeaderWhenXAmzDateIsAbsent() throws {
        var request = try signedPut()
        request.headers.removeAll { $0.name == "x-amz-date" || $0.name == "authorization" }
        request.headers.append(("Date", "Tue, 14 Nov 2023 22:13:20 GMT"))
        let scope = CredentialScope(date: "20231114", region: "us-east-1", service: "s3")
        let names = ["date", "host", "x-amz-content-sha256"]
        let canonical = try CanonicalRequest(
            method: "PUT", rawPath: request.rawPath, rawQuery: request.rawQuery, headers: request.headers,
            signedHeaders: names, payloadHash: PayloadHash(body: body).value)
        let signature = SigningKey(secretKey: secret, scope: scope).signatureHex(
            canonical.stringToSign(time: AmzDate(unixSeconds: time), scope: scope))
        request.headers.append(
            (
                "Authorization",
                AuthorizationHeader(accessKey: "CAM1", scope: scope, signedHeaders: names, signature: signature).value
            ))
        let verified = try verify(request)
        #expect(verified.claim.time.unixSeconds == time)
    }

    @Test func classifiesRequestsWithoutOrWithSeveralAuthentications() throws {
        let anonymous = SigV4Request(
            method: "GET", rawPath: "/recordings/a", rawQuery: "prefix=X-Amz-", headers: [("Host", "h")])
        #expect(try verifier.claim(of: anonymous) == nil)
        var both = try signedPut()
        both.rawQuery = S3ExampleTests.presignedQuery
        #expect(throws: SigV4Error.multipleAuthenticationMethods) { try verifier.claim(of: both) }
        let sigV2 = SigV4Request(
            method: "GET", rawPath: "/b/k", rawQuery: "AWSAccessKeyId=AK&Expires=1&Signature=abc",
            headers: [("Host", "h")])
        #expect(throws: SigV4Error.unsupportedAlgorithm("AWS")) { try verifier.claim(of: sigV2) }
        var twice = try signedPut()
        twice.headers.append(twice.headers.first { $0.name == "authorization" }!)
        #expect(throws: SigV4Error.malformedAuthorization("more than one Authorization header")) {
            try verifier.claim(of: twice)
        }
    }

    @Test func presignedPutWithSignedHeadersAndQuery() throws {
        let request = SigV4Request(
            method: "PUT", rawPath: "/recordings/camera-1/part.mp4", rawQuery: "uploadId=abc%2Bdef&partNumber=3",
            headers: [("Host", "depot.local:9000"), ("Content-Type", "video/mp4")])
        let query = try signer.presign(request, expires: 3_600, time: time)
        #expect(
            query.hasPrefix("X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=CAM1%2F20231114%2Fus-east-1%2Fs3%2F"))
        #expect(query.contains("&X-Amz-SignedHeaders=content-type%3Bhost&"))
        #expect(query.contains("&partNumber=3&uploadId=abc%2Bdef&X-Amz-Signature="))
        var received = request
        received.rawQuery = query
        let claim = try #require(try verifier.claim(of: received))
        #expect(claim.kind == .presigned(expires: 3_600))
        _ = try verifier.verify(claim, secretKey: secret, now: time + 3_600)
        #expect(throws: SigV4Error.expired) { try verifier.verify(claim, secretKey: secret, now: time + 3_601) }

        var tampered = received
        tampered.rawQuery = query.replacing("partNumber=3", with: "partNumber=4")
        #expect(throws: SigV4Error.signatureMismatch) {
            try verifier.verify(try #require(try verifier.claim(of: tampered)), secretKey: secret, now: time)
        }
        tampered = received
        tampered.headers = [("Host", "depot.local:9000"), ("Content-Type", "text/plain")]
        #expect(throws: SigV4Error.signatureMismatch) {
            try verifier.verify(try #require(try verifier.claim(of: tampered)), secretKey: secret, now: time)
        }
        #expect(throws: SigV4Error.malformedExpires("604801")) {
            try signer.presign(request, expires: 604_801, time: time)
        }
        #expect(throws: SigV4Error.missingHeader("host")) {
            try signer.presign(SigV4Request(method: "GET", rawPath: "/", headers: []), expires: 60, time: time)
        }
    }

    @Test func sqsSendMessageIsFormEncodedAndDoubleEncoded() throws {
        let sqs = SigV4Signer(
            credentials: SigV4Credentials(accessKey: "AKID", secretKey: secret), region: "eu-west-1", service: "sqs")
        #expect(sqs.pathStyle == .doubleEncoded)
        let form = SigV4Encoding.queryString([
            ("Action", "SendMessage"), ("MessageBody", "{\"key\": \"camera-1/a b.mp4\"}"), ("Version", "2012-11-05"),
        ])
        #expect(
            form == "Action=SendMessage&MessageBody=%7B%22key%22%3A%20%22camera-1%2Fa%20b.mp4%22%7D&Version=2012-11-05")
        let headers: [(name: String, value: String)] = [
            ("Host", "sqs.eu-west-1.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded"),
        ]
        let request = SigV4Request(method: "POST", rawPath: "/123456789012/depot-events", headers: headers)
        let payload = PayloadHash(body: Array(form.utf8)).value
        let added = try sqs.sign(request, payloadHash: payload, time: time)
        #expect(added.map(\.name) == ["x-amz-date", "authorization"])
        let scope = CredentialScope(date: "20231114", region: "eu-west-1", service: "sqs")
        let canonical = try CanonicalRequest(
            method: "POST", rawPath: "/123456789012/depot-events", rawQuery: "", headers: headers + added.prefix(1),
            signedHeaders: ["content-type", "host", "x-amz-date"], payloadHash: payload, pathStyle: .doubleEncoded)
        let expected = SigningKey(secretKey: secret, scope: scope).signatureHex(
            canonical.stringToSign(time: AmzDate(unixSeconds: time), scope: scope))
        #expect(
            Fixtures.header("authorization", in: added)
                == "AWS4-HMAC-SHA256 Credential=AKID/20231114/eu-west-1/sqs/aws4_request, "
                + "SignedHeaders=content-type;host;x-amz-date, Signature=\(expected)")
    }

    @Test func signerReplacesHeadersItOwns() throws {
        let request = SigV4Request(
            method: "GET", rawPath: "/b/k",
            headers: [("Host", "h"), ("X-Amz-Date", "19990101T000000Z"), ("Authorization", "stale")])
        let added = try signer.sign(request, payloadHash: PayloadHash.unsignedValue, time: time)
        #expect(added.map(\.name) == ["x-amz-date", "x-amz-content-sha256", "authorization"])
        var received = request
        received.headers = [("Host", "h")] + added
        _ = try verify(received)
        #expect(throws: SigV4Error.missingHeader("host")) {
            try signer.sign(SigV4Request(method: "GET", rawPath: "/", headers: []), payloadHash: "x", time: time)
        }
    }
}

struct SigningKeyCacheTests {
    let scope = CredentialScope(date: "20240101", region: "us-east-1", service: "s3")

    @Test func returnsTheDerivedKeyAndRemembersIt() {
        let cache = SigningKeyCache(capacity: 2)
        let key = cache.key(secretKey: "s1", scope: scope)
        #expect(key.bytes == SigningKey(secretKey: "s1", scope: scope).bytes)
        #expect(cache.key(secretKey: "s1", scope: scope).bytes == key.bytes)
        #expect(cache.count == 1)
        _ = cache.key(secretKey: "s2", scope: scope)
        #expect(cache.count == 2)
        let other = cache.key(
            secretKey: "s1", scope: CredentialScope(date: "20240102", region: "us-east-1", service: "s3"))
        #expect(other.bytes != key.bytes)
        #expect(cache.count == 1)  // full: forgot everything, kept the new one
    }

    @Test func isSafeUnderConcurrentUse() async {
        let cache = SigningKeyCache(capacity: 8)
        let scope = self.scope
        let expected = (0..<16).map { SigningKey(secretKey: "secret-\($0)", scope: scope).bytes }
        let allMatch = await withTaskGroup(of: Bool.self) { group in
            for task in 0..<64 {
                group.addTask {
                    (0..<200).allSatisfy { i in
                        let n = (task + i) % 16
                        return cache.key(secretKey: "secret-\(n)", scope: scope).bytes == expected[n]
                    }
                }
            }
            return await group.allSatisfy { $0 }
        }
        #expect(allMatch)
        #expect(cache.count <= 8)
    }
}

extension RoundTripTests {
    @Test func presignedURLCanSignThePayloadHash() throws {
        let hash = PayloadHash(body: body).value
        let request = SigV4Request(
            method: "PUT", rawPath: "/recordings/k", rawQuery: "x-amz-content-sha256=\(hash)",
            headers: [("Host", "depot.local")])
        var received = request
        received.rawQuery = try signer.presign(request, expires: 60, time: time, payloadHash: hash)
        let claim = try #require(try verifier.claim(of: received))
        #expect(claim.payload == .sha256(Fixtures.sha256(body)))
        _ = try verifier.verify(claim, secretKey: secret, now: time)
    }
}
