#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The 1 MiB of random bytes every PUT body is made from, for the life of the process.
final class SharedBlock: @unchecked Sendable {
    static let size = 1 << 20
    /// Written once in `init`, only read after.
    let bytes: UnsafeMutableRawBufferPointer

    init() {
        bytes = .allocate(byteCount: Self.size, alignment: 64)
        // One read of /dev/urandom for the block, not a getrandom call per word (131,072 at start).
        var filled = 0
        let random = open("/dev/urandom", O_RDONLY)
        while random >= 0, filled < Self.size {
            let n = read(random, bytes.baseAddress! + filled, Self.size - filled)
            guard n > 0 else { break }
            filled += n
        }
        if random >= 0 { _ = close(random) }
        if filled < Self.size {
            var generator = SystemRandomNumberGenerator()
            let words = bytes.bindMemory(to: UInt64.self)
            for i in words.indices { words[i] = generator.next() }
        }
    }

    /// `count` bytes of the block from `offset`, every 8-byte word XORed with `key` and any last
    /// bytes of a piece (`tail`) with its low byte: ``LoadClient/unique(_:length:key:)``'s bytes.
    func xor(offset: Int, count: Int, key: UInt64, into target: UnsafeMutableRawPointer) {
        let words = count / 8
        let from = (UnsafeRawPointer(bytes.baseAddress!) + offset).assumingMemoryBound(to: UInt64.self)
        let to = target.assumingMemoryBound(to: UInt64.self)
        for i in 0..<words { to[i] = from[i] ^ key }
        let source = UnsafeRawPointer(bytes.baseAddress!) + offset
        for i in words * 8..<count {
            target.storeBytes(
                of: source.load(fromByteOffset: i, as: UInt8.self) ^ UInt8(truncatingIfNeeded: key), toByteOffset: i,
                as: UInt8.self)
        }
    }
}

/// One load stream's S3 client: a persistent connection, a request renderer and a scratch buffer
/// that PUT bodies are XORed into a quarter MiB at a time (it stays in the core's cache between the
/// XOR and the socket's copy).
final class S3Stream {
    static let scratchSize = 256 << 10
    let connection: HTTPStream
    var renderer: S3RequestRenderer
    let block: SharedBlock
    private let scratch: UnsafeMutableRawBufferPointer

    init(address: SocketAddress, renderer: S3RequestRenderer, block: SharedBlock) {
        connection = HTTPStream(address: address)
        self.renderer = renderer
        self.block = block
        scratch = .allocate(byteCount: Self.scratchSize, alignment: 64)
    }

    deinit { scratch.deallocate() }

    /// One signed request; its status and the number of body bytes read (and dropped). `body`: a
    /// PUT body of `size` bytes unique to `seed` (``LoadClient/body(size:block:seed:)``'s bytes).
    /// A request that finds its kept-alive connection closed by the server is sent once more on a
    /// new one; any other failure closes the connection (the next request opens another).
    func request(
        _ method: String, path: String, query: String = "", headers: [S3RequestRenderer.Header] = [],
        body: (size: Int, seed: UInt64)? = nil
    ) throws -> (status: Int, bytes: Int) {
        var attempt = 0
        while true {
            attempt += 1
            do {
                renderer.render(method: method, path: path, query: query, headers: headers, time: time(nil))
                try renderer.head.withUnsafeBytes { head in
                    if let body {
                        try send(head: head, size: body.size, seed: body.seed)
                    } else {
                        try connection.send(head: head)
                    }
                }
                return try connection.readResponse(noBody: method == "HEAD")
            } catch is StaleConnection where attempt == 1 {
                connection.close()
            } catch {
                connection.close()
                throw error
            }
        }
    }

    /// The head with the body's first quarter MiB in one `writev`, then the rest. Pieces of the
    /// object are 1 MiB, each XORed with its own key (one piece, key 0, for objects up to 1 MiB).
    private func send(head: UnsafeRawBufferPointer, size: Int, seed: UInt64) throws {
        var offset = 0
        var first = true
        repeat {
            let piece = size <= SharedBlock.size ? 0 : UInt64(offset / SharedBlock.size + 1)
            let inPiece = offset % SharedBlock.size
            let pieceLength = min(SharedBlock.size, size - (offset - inPiece))
            let n = min(Self.scratchSize, pieceLength - inPiece)
            block.xor(offset: inPiece, count: n, key: LoadClient.mix(seed, piece), into: scratch.baseAddress!)
            let bytes = UnsafeRawBufferPointer(start: scratch.baseAddress, count: n)
            if first { try connection.send(head: head, body: bytes) } else { try connection.send(body: bytes) }
            first = false
            offset += n
        } while offset < size
    }
}
