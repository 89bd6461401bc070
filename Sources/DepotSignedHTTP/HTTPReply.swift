import AsyncHTTPClient
import NIOCore
import NIOHTTP1

/// A response read whole: the status, the headers and a body that was at most the caller's limit.
public struct HTTPReply: Sendable {
    public var status: UInt
    public var headers: HTTPHeaders
    public var body: [UInt8]

    public init(status: UInt, headers: HTTPHeaders, body: [UInt8]) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    /// The body as UTF-8 text (invalid bytes replaced), for error messages and XML/form replies.
    public var text: String { String(decoding: body, as: UTF8.self) }
}

extension HTTPClientResponse {
    /// Reads the body into memory, refusing (with AsyncHTTPClient's `NIOTooManyBytesError`) one
    /// longer than `limit` bytes: a store or queue that answers with an endless body cannot
    /// make Depot hold it.
    public func collectBody(upTo limit: Int) async throws -> [UInt8] {
        Array(try await body.collect(upTo: limit).readableBytesView)
    }
}

extension HTTPClient {
    /// Sends a request that needs no signature (GCS, Azure, webhooks) and reads its reply, at most
    /// `bodyLimit` bytes of body, within `timeout` for the whole exchange's head.
    public func fetch(_ request: HTTPClientRequest, timeout: TimeAmount, bodyLimit: Int) async throws -> HTTPReply {
        let response = try await execute(request, timeout: timeout)
        let body = try await response.collectBody(upTo: bodyLimit)
        return HTTPReply(status: response.status.code, headers: response.headers, body: body)
    }
}
