import AsyncHTTPClient
import DepotSigV4
import Glibc
import NIOCore
import NIOHTTP1

/// What a signed request carries as its body, and what its signature says of it
/// (`x-amz-content-sha256` for S3, the canonical request's last line for every service).
public struct SignedBody: Sendable {
    public let body: HTTPClientRequest.Body?
    public let payloadHash: String

    /// Any body with the payload hash to sign for it (hex SHA-256 or a ``DepotSigV4/PayloadHash`` value).
    public init(body: HTTPClientRequest.Body?, payloadHash: String) {
        self.body = body
        self.payloadHash = payloadHash
    }

    /// No body, signed as the SHA-256 of nothing (GETs, admin calls without a document).
    public static var empty: SignedBody { SignedBody(body: nil, payloadHash: PayloadHash.emptySHA256Hex) }

    /// No body, signed as `UNSIGNED-PAYLOAD`.
    public static var unsignedEmpty: SignedBody { SignedBody(body: nil, payloadHash: PayloadHash.unsignedValue) }

    /// A small body held in memory, its SHA-256 signed (SQS forms, admin JSON documents).
    public static func signed(_ bytes: [UInt8]) -> SignedBody {
        SignedBody(body: .bytes(ByteBuffer(bytes: bytes)), payloadHash: PayloadHash(body: bytes).value)
    }

    /// A body sent as `UNSIGNED-PAYLOAD`: only the headers are signed. This is how an object
    /// streams straight from the segments without being read twice (its integrity rides on
    /// Content-MD5 instead).
    public static func unsigned(_ body: HTTPClientRequest.Body) -> SignedBody {
        SignedBody(body: body, payloadHash: PayloadHash.unsignedValue)
    }
}

/// One outbound request before signing. `path` and `query` are in on-the-wire form, encoded
/// with ``DepotSigV4/SigV4Encoding``: they are sent and signed exactly as given.
public struct SignedRequest: Sendable {
    public var method: HTTPMethod
    public var endpoint: HTTPEndpoint
    public var path: String
    public var query: String
    /// Sent and signed (besides `host`, which comes from the endpoint).
    public var headers: [SigV4Header]
    /// Sent but not signed.
    public var unsignedHeaders: [SigV4Header]
    public var body: SignedBody

    public init(
        _ method: HTTPMethod, _ endpoint: HTTPEndpoint, path: String, query: String = "", headers: [SigV4Header] = [],
        unsignedHeaders: [SigV4Header] = [], body: SignedBody = .empty
    ) {
        self.method = method
        self.endpoint = endpoint
        self.path = path
        self.query = query
        self.headers = headers
        self.unsignedHeaders = unsignedHeaders
        self.body = body
    }
}

/// The one SigV4-signed outbound HTTP client: the S3 tier, the SQS sink and the `depot` admin
/// commands all build, sign, send and read their requests here (header authentication).
public struct SignedHTTPClient: Sendable {
    public let signer: SigV4Signer
    public let client: HTTPClient

    public init(signer: SigV4Signer, client: HTTPClient) {
        self.signer = signer
        self.client = client
    }

    public init(credentials: SigV4Credentials, region: String, service: String, client: HTTPClient) {
        self.init(signer: SigV4Signer(credentials: credentials, region: region, service: service), client: client)
    }

    /// The request as AsyncHTTPClient sends it, signed at `time` (Unix seconds; the clock's when nil).
    public func prepare(_ request: SignedRequest, time: Int? = nil) throws -> HTTPClientRequest {
        let host: SigV4Header = ("host", request.endpoint.host)
        let signature = try signer.sign(
            SigV4Request(
                method: request.method.rawValue, rawPath: request.path, rawQuery: request.query,
                headers: [host] + request.headers),
            payloadHash: request.body.payloadHash, time: time ?? Self.now())
        var prepared = HTTPClientRequest(url: request.endpoint.url(path: request.path, query: request.query))
        prepared.method = request.method
        // AsyncHTTPClient derives Host from the URL, which is the endpoint's host as signed.
        for (name, value) in request.headers where name.lowercased() != "host" {
            prepared.headers.add(name: name, value: value)
        }
        for (name, value) in request.unsignedHeaders + signature { prepared.headers.add(name: name, value: value) }
        if let body = request.body.body { prepared.body = body }
        return prepared
    }

    /// Signs and sends; the response's body is left to stream (ranged tier downloads).
    public func execute(_ request: SignedRequest, timeout: TimeAmount, time: Int? = nil) async throws -> HTTPClientResponse {
        try await client.execute(prepare(request, time: time), timeout: timeout)
    }

    /// Signs, sends and reads the reply, refusing a body longer than `bodyLimit` bytes.
    public func fetch(_ request: SignedRequest, timeout: TimeAmount, bodyLimit: Int, time: Int? = nil) async throws
        -> HTTPReply
    {
        try await client.fetch(prepare(request, time: time), timeout: timeout, bodyLimit: bodyLimit)
    }

    static func now() -> Int {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int(now.tv_sec)
    }
}
