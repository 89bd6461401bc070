import AsyncHTTPClient
import DepotSigV4
import Foundation
import NIOCore
import NIOHTTP1

/// A signing S3 (and Vault) client on AsyncHTTPClient. It signs with Depot's own SigV4 code and
/// UNSIGNED-PAYLOAD, so the client hashes nothing and its CPU stays out of the server's way.
struct LoadClient: Sendable {
    let endpoint: String
    let host: String
    let signer: SigV4Signer
    let http: HTTPClient
    let vaultKeys: (access: String, secret: String)

    init(endpoint: String, accessKey: String, secretKey: String, concurrency: Int) {
        self.endpoint = endpoint.hasSuffix("/") ? String(endpoint.dropLast()) : endpoint
        host = String(self.endpoint.split(separator: "/").dropFirst().first ?? "")
        signer = SigV4Signer(credentials: SigV4Credentials(accessKey: accessKey, secretKey: secretKey), region: "us-east-1", service: "s3")
        var configuration = HTTPClient.Configuration()
        configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: max(8, concurrency))
        configuration.decompression = .disabled
        http = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        vaultKeys = (accessKey, secretKey)
    }

    /// Sends a signed S3 request; returns status and the number of body bytes read (and dropped).
    func s3(
        _ method: HTTPMethod, path: String, query: String = "", headers: [(String, String)] = [],
        body: HTTPClientRequest.Body? = nil
    ) async throws -> (status: UInt, bytes: Int) {
        var all: [SigV4Header] = [("host", host)] + headers.map { ($0.0, $0.1) }
        all += try signer.sign(
            SigV4Request(method: method.rawValue, rawPath: path, rawQuery: query, headers: all),
            payloadHash: PayloadHash.unsignedValue, time: Int(Date().timeIntervalSince1970))
        var request = HTTPClientRequest(url: endpoint + path + (query.isEmpty ? "" : "?" + query))
        request.method = method
        for (name, value) in all where name != "host" { request.headers.add(name: name, value: value) }
        if let body { request.body = body }
        return try await execute(request)
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
