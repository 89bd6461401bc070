import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// The endpoint and keys, and an AsyncHTTPClient for the Vault and tus operations. S3 requests go
/// through ``S3Stream``s (one blocking connection per load stream), which cost the client far less
/// CPU per request and per byte than AsyncHTTPClient did, so that the load measures the server.
struct LoadClient: Sendable {
    let endpoint: String
    let host: String
    let http: HTTPClient
    let vaultKeys: (access: String, secret: String)

    /// The endpoint's host name (or address) and port, where the S3 streams connect.
    let hostName: String
    let port: Int
    /// Any path the endpoint URL has after its authority, put before every S3 path.
    let basePath: String

    init(endpoint: String, accessKey: String, secretKey: String, concurrency: Int) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        host = String(self.endpoint.split(separator: "/").dropFirst().first ?? "")
        let afterAuthority = self.endpoint.split(separator: "/", maxSplits: 3, omittingEmptySubsequences: false).dropFirst(3)
        basePath = afterAuthority.first.map { "/" + $0 } ?? ""
        if let colon = host.lastIndex(of: ":"), !host[colon...].contains("]"), let port = Int(host[host.index(after: colon)...]) {
            hostName = String(host[..<colon])
            self.port = port
        } else {
            hostName = host
            port = self.endpoint.hasPrefix("https:") ? 443 : 80
        }
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(
            idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency))
        configuration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        vaultKeys = (accessKey, secretKey)
    }

    func execute(_ request: HTTPClientRequest) async throws -> (status: UInt, bytes: Int) {
        let response = try await http.execute(request, timeout: .hours(1))
        var bytes = 0
        for try await buffer in response.body { bytes += buffer.readableBytes }
        return (response.status.code, bytes)
    }

    /// A body of `size` bytes that is unique to `seed`: one shared random block, every 8-byte word
    /// XORed with a key drawn from the seed and the piece's position. Real recordings do not
    /// deduplicate, so neither may the load (repeating one block would let Depot store nothing);
    /// the XOR costs the client little next to generating random bytes. Streamed 1 MiB at a time.
    static func body(size: Int, block: ByteBuffer, seed: UInt64) -> HTTPClientRequest.Body {
        if size <= block.readableBytes { return .bytes(unique(block, length: size, key: mix(seed, 0))) }
        return .stream(Pieces(block: block, total: size, seed: seed), length: .known(Int64(size)))
    }

    static func mix(_ seed: UInt64, _ piece: UInt64) -> UInt64 {
        var z = seed &* 0x9E37_79B9_7F4A_7C15 &+ piece &* 0xBF58_476D_1CE4_E5B9 &+ 1
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    static func unique(_ block: ByteBuffer, length: Int, key: UInt64) -> ByteBuffer {
        var out = ByteBufferAllocator().buffer(capacity: length)
        out.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { target in
            block.withUnsafeReadableBytes { source in
                let words = length / 8
                let from = source.bindMemory(to: UInt64.self)
                let to = target.bindMemory(to: UInt64.self)
                for i in 0..<words { to[i] = from[i] ^ key }
                for i in words * 8..<length { target[i] = source[i] ^ UInt8(truncatingIfNeeded: key) }
            }
            return length
        }
        return out
    }

    struct Pieces: AsyncSequence, Sendable {
        typealias Element = ByteBuffer
        let block: ByteBuffer
        let total: Int
        let seed: UInt64
        struct AsyncIterator: AsyncIteratorProtocol {
            let block: ByteBuffer
            let seed: UInt64
            var remaining: Int
            var piece: UInt64 = 0
            mutating func next() async -> ByteBuffer? {
                guard remaining > 0 else { return nil }
                let n = Swift.min(remaining, block.readableBytes)
                remaining -= n
                piece += 1
                return LoadClient.unique(block, length: n, key: LoadClient.mix(seed, piece))
            }
        }
        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(block: block, seed: seed, remaining: total) }
    }
}
