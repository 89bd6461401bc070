import AsyncHTTPClient
import DepotSigV4
import DepotSignedHTTP
import NIOCore
import NIOHTTP1
import Testing

/// The signed client against a real server on 127.0.0.1 that verifies each signature with
/// DepotSigV4's verifier: what the client sends is what it signed.
struct SignedHTTPClientTests {
    /// Runs `body` with a verifying server for us-east-1 / `service` and a client signing for `region`.
    func withServer(
        service: String = "s3", region: String = "us-east-1", secretKey: String = VerifyingServer.credentials.secretKey,
        _ body: (SignedHTTPClient, HTTPEndpoint) async throws -> Void
    ) async throws {
        let server = try await VerifyingServer(region: "us-east-1", service: service)
        let http = HTTPClient(eventLoopGroupProvider: .singleton)
        let signed = SignedHTTPClient(
            credentials: SigV4Credentials(accessKey: VerifyingServer.credentials.accessKey, secretKey: secretKey),
            region: region, service: service, client: http)
        let endpoint = HTTPEndpoint(url: "http://127.0.0.1:\(server.port)")
        do {
            try await body(signed, endpoint)
        } catch {
            try await http.shutdown()
            try await server.stop()
            throw error
        }
        try await http.shutdown()
        try await server.stop()
    }

    /// The server's `name: value` lines.
    func fields(_ reply: HTTPReply) -> [String: String] {
        var fields: [String: String] = [:]
        for line in reply.text.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            fields[String(line[..<colon])] = String(line[line.index(colon, offsetBy: 2)...])
        }
        return fields
    }

    @Test func aBodilessGetIsSignedOverTheEmptyHash() async throws {
        try await withServer { client, endpoint in
            let reply = try await client.fetch(
                SignedRequest(.GET, endpoint, path: "/bucket/key"), timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 200, "\(reply.text)")
            let seen = fields(reply)
            #expect(seen["payload"] == PayloadHash.emptySHA256Hex)
            #expect(seen["host"] == endpoint.host)
            #expect(seen["signed"] == "host;x-amz-content-sha256;x-amz-date")
        }
    }

    @Test func anEncodedKeyAndQueryAreSentAsSigned() async throws {
        try await withServer { client, endpoint in
            let path = "/bucket/" + SigV4Encoding.encodePath("cam 1/été+(1).mp4")
            let query = "partNumber=3&uploadId=" + SigV4Encoding.encode("a/b+c=")
            let reply = try await client.fetch(
                SignedRequest(
                    .PUT, endpoint, path: path, query: query, headers: [("content-md5", "1B2M2Y8AsgTpgAmY7PhCfg==")],
                    body: .unsigned(.bytes(ByteBuffer()))),
                timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 200, "\(reply.text)")
            let seen = fields(reply)
            #expect(seen["path"] == "/bucket/cam%201/%C3%A9t%C3%A9%2B%281%29.mp4")
            #expect(seen["query"] == "partNumber=3&uploadId=a%2Fb%2Bc%3D")
            #expect(seen["signed"] == "content-md5;host;x-amz-content-sha256;x-amz-date")
            #expect(seen["payload"] == "UNSIGNED-PAYLOAD")
        }
    }

    @Test func aSmallBodyIsSignedByItsSHA256() async throws {
        try await withServer(service: "sqs") { client, endpoint in
            let form = Array("Action=SendMessage&MessageBody=hello%20world&Version=2012-11-05".utf8)
            let reply = try await client.fetch(
                SignedRequest(
                    .POST, endpoint, path: "/000000000000/events",
                    headers: [("content-type", "application/x-www-form-urlencoded; charset=utf-8")], body: .signed(form)),
                timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 200, "\(reply.text)")
            let seen = fields(reply)
            #expect(seen["length"] == String(form.count))
            #expect(seen["payload"] == PayloadHash(body: form).value)
            // SQS signs no x-amz-content-sha256 header: the hash is only in the canonical request.
            #expect(seen["signed"] == "content-type;host;x-amz-date")
        }
    }

    @Test func unsignedHeadersAreSentButNotSigned() async throws {
        try await withServer { client, endpoint in
            let document = Array(#"{"name":"cold"}"#.utf8)
            let reply = try await client.fetch(
                SignedRequest(
                    .PUT, endpoint, path: "/admin/tiers/cold", unsignedHeaders: [("content-type", "application/json")],
                    body: .signed(document)),
                timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 200, "\(reply.text)")
            let seen = fields(reply)
            #expect(seen["content-type"] == "application/json")
            #expect(seen["signed"] == "host;x-amz-content-sha256;x-amz-date")
        }
    }

    @Test func aStreamedBodyGoesOutPieceByPieceUnderAnUnsignedPayload() async throws {
        let pieceSize = 64 << 10
        let pieces = 48  // 3 MiB
        try await withServer { client, endpoint in
            let stream = AsyncStream<ByteBuffer> { continuation in
                for i in 0..<pieces {
                    continuation.yield(ByteBuffer(repeating: UInt8(i), count: pieceSize))
                }
                continuation.finish()
            }
            let reply = try await client.fetch(
                SignedRequest(
                    .PUT, endpoint, path: "/bucket/big", headers: [("content-length", String(pieceSize * pieces))],
                    body: .unsigned(.stream(stream, length: .known(Int64(pieceSize * pieces))))),
                timeout: .seconds(30), bodyLimit: 1 << 16)
            #expect(reply.status == 200, "\(reply.text)")
            #expect(fields(reply)["length"] == String(pieceSize * pieces))
        }
    }

    @Test func aWrongSecretIsRefusedByTheVerifier() async throws {
        try await withServer(secretKey: "not-the-secret") { client, endpoint in
            let reply = try await client.fetch(
                SignedRequest(.GET, endpoint, path: "/bucket"), timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 403)
            #expect(reply.text.contains("signatureMismatch"), "\(reply.text)")
        }
    }

    @Test func aWrongRegionIsRefusedByTheVerifier() async throws {
        try await withServer(region: "eu-west-3") { client, endpoint in
            let reply = try await client.fetch(
                SignedRequest(.GET, endpoint, path: "/bucket"), timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 403)
        }
    }

    @Test func aSignedBodyThatIsNotTheOneSentIsCaughtByTheServer() async throws {
        try await withServer { client, endpoint in
            // A body whose hash is the empty string's: the server's SHA-256 check must refuse it.
            let lie = SignedBody(body: .bytes(ByteBuffer(string: "changed")), payloadHash: PayloadHash.emptySHA256Hex)
            let reply = try await client.fetch(
                SignedRequest(.PUT, endpoint, path: "/bucket/k", body: lie), timeout: .seconds(10), bodyLimit: 1 << 16)
            #expect(reply.status == 400)
        }
    }

    @Test func anSQSFormWhoseBodyIsNotTheSignedOneIsRefused() async throws {
        try await withServer(service: "sqs") { client, endpoint in
            let lie = SignedBody(
                body: .bytes(ByteBuffer(string: "Action=PurgeQueue")),
                payloadHash: PayloadHash(body: Array("Action=SendMessage".utf8)).value)
            let reply = try await client.fetch(
                SignedRequest(.POST, endpoint, path: "/000000000000/events", body: lie), timeout: .seconds(10),
                bodyLimit: 1 << 16)
            #expect(reply.status == 403)
            #expect(reply.text.contains("signatureMismatch"), "\(reply.text)")
        }
    }

    @Test func aReplyLongerThanTheLimitIsRefused() async throws {
        try await withServer { client, endpoint in
            let whole = try await client.fetch(
                SignedRequest(.GET, endpoint, path: "/big"), timeout: .seconds(10), bodyLimit: 2000)
            #expect(whole.body.count == 2000)
            await #expect(throws: NIOTooManyBytesError.self) {
                _ = try await client.fetch(
                    SignedRequest(.GET, endpoint, path: "/big"), timeout: .seconds(10), bodyLimit: 1999)
            }
        }
    }

    @Test func aServerThatDoesNotAnswerInTimeIsGivenUpOn() async throws {
        try await withServer { client, endpoint in
            let clock = ContinuousClock()
            let start = clock.now
            await #expect(throws: HTTPClientError.self) {
                _ = try await client.fetch(
                    SignedRequest(.GET, endpoint, path: "/slow"), timeout: .milliseconds(300), bodyLimit: 1 << 16)
            }
            // The server answers after 30 s: 10 s tells "gave up" from "waited" even on a busy machine.
            #expect(clock.now - start < .seconds(10))
        }
    }

    @Test func executeLeavesTheBodyToStream() async throws {
        try await withServer { client, endpoint in
            let response = try await client.execute(SignedRequest(.GET, endpoint, path: "/big"), timeout: .seconds(10))
            var total = 0
            for try await buffer in response.body { total += buffer.readableBytes }
            #expect(total == 2000)
        }
    }

    @Test func theSignatureIsFromTheGivenTime() throws {
        let client = SignedHTTPClient(
            credentials: VerifyingServer.credentials, region: "us-east-1", service: "s3",
            client: HTTPClient.shared)
        let request = try client.prepare(
            SignedRequest(.GET, HTTPEndpoint(url: "http://127.0.0.1:9000"), path: "/"), time: 1_700_000_000)
        #expect(request.headers.first(name: "x-amz-date") == "20231114T221320Z")
        #expect(request.url == "http://127.0.0.1:9000/")
    }
}

struct HTTPEndpointTests {
    @Test func urlsAreSplitIntoSchemeHostAndPath() {
        #expect(
            HTTPEndpoint(url: "https://s3.example.com:8443/base/")
                == HTTPEndpoint(scheme: "https", host: "s3.example.com:8443", path: "/base/"))
        #expect(HTTPEndpoint(url: "http://127.0.0.1:9000") == HTTPEndpoint(scheme: "http", host: "127.0.0.1:9000"))
        #expect(
            HTTPEndpoint(url: "http://localhost:9324/000000000000/events")
                == HTTPEndpoint(scheme: "http", host: "localhost:9324", path: "/000000000000/events"))
        // No scheme: plain HTTP, as tier endpoints have always been read.
        #expect(HTTPEndpoint(url: "minio:9000") == HTTPEndpoint(scheme: "http", host: "minio:9000"))
    }

    @Test func aURLIsBuiltFromPathAndQueryAsGiven() {
        let endpoint = HTTPEndpoint(scheme: "https", host: "b.s3.amazonaws.com")
        #expect(endpoint.url(path: "/a%20b") == "https://b.s3.amazonaws.com/a%20b")
        #expect(endpoint.url(path: "/k", query: "uploads=") == "https://b.s3.amazonaws.com/k?uploads=")
    }
}
