#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// An endpoint's socket address, resolved once for all of a run's connections.
struct SocketAddress: @unchecked Sendable {
    let storage: sockaddr_storage
    let length: socklen_t
    let family: Int32

    init(host: String, port: Int) throws {
        var hints = addrinfo()
        #if os(Linux)
            hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
            hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        let name = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        guard getaddrinfo(name, String(port), &hints, &list) == 0, let first = list, let address = first.pointee.ai_addr
        else { throw LoadError("cannot resolve \(host)") }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        withUnsafeMutableBytes(of: &storage) { out in
            out.copyMemory(from: UnsafeRawBufferPointer(start: address, count: Int(first.pointee.ai_addrlen)))
        }
        self.storage = storage
        length = first.pointee.ai_addrlen
        family = first.pointee.ai_family
    }
}

/// One persistent HTTP/1.1 connection on a blocking socket, used by one thread (one load stream),
/// as wrk and similar load generators do: a request is a `writev` or two, the reply a `recv` or two
/// into a reused buffer. Bodies are counted and dropped (on Linux with `MSG_TRUNC`, which discards
/// received TCP bytes without copying them out). Every blocking call is bounded by `timeout`.
final class HTTPStream {
    private let address: SocketAddress
    private let timeoutSeconds: Int
    private var fd: Int32 = -1
    /// Whether the open connection has carried a complete exchange (a failure on it may be a
    /// keep-alive connection the server closed while idle, worth one retry).
    private(set) var reused = false
    private let buffer: UnsafeMutableRawBufferPointer
    private var start = 0
    private var end = 0

    init(address: SocketAddress, timeoutSeconds: Int = 300, bufferSize: Int = 64 << 10) {
        self.address = address
        self.timeoutSeconds = timeoutSeconds
        buffer = .allocate(byteCount: bufferSize, alignment: 64)
    }

    deinit {
        close()
        buffer.deallocate()
    }

    func close() {
        if fd >= 0 { _ = systemClose(fd) }
        fd = -1
        reused = false
        start = 0
        end = 0
    }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        #if os(Linux)
            let socketFD = socket(address.family, Int32(SOCK_STREAM.rawValue), 0)
        #else
            let socketFD = socket(address.family, SOCK_STREAM, 0)
        #endif
        guard socketFD >= 0 else { throw LoadError("socket: \(errorText())") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        var one: Int32 = 1
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var storage = address.storage
        let connected = withUnsafePointer(to: &storage) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socketFD, $0, address.length) }
        }
        guard connected == 0 else {
            let text = errorText()
            _ = systemClose(socketFD)
            throw LoadError("connect: \(text)")
        }
        fd = socketFD
    }

    /// Sends a request head and, in the same `writev`, the start of its body.
    func send(head: UnsafeRawBufferPointer, body: UnsafeRawBufferPointer? = nil) throws {
        try connectIfNeeded()
        var first = head
        var second = body ?? UnsafeRawBufferPointer(start: nil, count: 0)
        while !first.isEmpty || !second.isEmpty {
            if first.isEmpty { swap(&first, &second) }
            var vectors = (
                iovec(iov_base: UnsafeMutableRawPointer(mutating: first.baseAddress), iov_len: first.count),
                iovec(iov_base: UnsafeMutableRawPointer(mutating: second.baseAddress), iov_len: second.count)
            )
            let written = withUnsafeMutableBytes(of: &vectors) {
                writev(fd, $0.baseAddress!.assumingMemoryBound(to: iovec.self), second.isEmpty ? 1 : 2)
            }
            guard written >= 0 else {
                if errno == EINTR { continue }
                if reused, errno == EPIPE || errno == ECONNRESET { throw StaleConnection() }
                throw LoadError("send: \(errorText())")
            }
            let fromFirst = min(written, first.count)
            first = UnsafeRawBufferPointer(rebasing: first[fromFirst...])
            second = UnsafeRawBufferPointer(rebasing: second[(written - fromFirst)...])
        }
    }

    /// Sends more of a body.
    func send(body: UnsafeRawBufferPointer) throws {
        var rest = body
        while !rest.isEmpty {
            let written = write(fd, rest.baseAddress, rest.count)
            guard written >= 0 else {
                if errno == EINTR { continue }
                throw LoadError("send: \(errorText())")
            }
            rest = UnsafeRawBufferPointer(rebasing: rest[written...])
        }
    }

    /// Reads one response (skipping any 1xx): its status and the number of body bytes, which are
    /// dropped. `noBody`: the request was a HEAD. Closes the connection when the server asks to.
    func readResponse(noBody: Bool = false) throws -> (status: Int, bytes: Int) {
        while true {
            let headEnd = try fillHead()
            let head = ResponseHead(UnsafeRawBufferPointer(rebasing: buffer[start..<headEnd]))
            start = headEnd
            guard let status = head.status else { throw LoadError("malformed response head") }
            if status < 200 { continue }
            let bytes: Int
            if noBody || status == 204 || status == 304 {
                bytes = 0
            } else if head.chunked {
                bytes = try readChunked()
            } else if let length = head.contentLength {
                try discard(length)
                bytes = length
            } else {
                bytes = try discardToEnd()
                close()
                return (status, bytes)
            }
            if head.close { close() } else { reused = true }
            if start == end {
                start = 0
                end = 0
            }
            return (status, bytes)
        }
    }

    /// Reads until the buffer holds a whole response head; returns the offset just after it.
    private func fillHead() throws -> Int {
        // Bytes after `start` already searched: `fill` may move the unread bytes to the front.
        var scanned = 0
        while true {
            if let found = find(crlfcrlf, from: start + scanned) { return found + 4 }
            scanned = max(0, end - start - 3)
            try fill(forHead: true)
        }
    }

    /// Reads more bytes after `end` (moving unread bytes to the front first when needed).
    private func fill(forHead: Bool = false) throws {
        if end == buffer.count {
            guard start > 0 else { throw LoadError("response head larger than \(buffer.count) bytes") }
            let unread = end - start
            buffer.baseAddress!.copyMemory(from: buffer.baseAddress! + start, byteCount: unread)
            start = 0
            end = unread
        }
        // Nothing of the response yet on a kept-alive connection: an end or a reset means the
        // server closed it while idle, before the request arrived.
        let stale = forHead && reused && start == end
        let n = try receive(into: buffer.baseAddress! + end, count: buffer.count - end, flags: 0, stale: stale)
        guard n > 0 else {
            if stale { throw StaleConnection() }
            throw LoadError("connection closed by the server")
        }
        end += n
    }

    private func receive(into pointer: UnsafeMutableRawPointer, count: Int, flags: Int32, stale: Bool = false) throws -> Int {
        while true {
            let n = recv(fd, pointer, count, flags)
            if n >= 0 { return n }
            if errno == EINTR { continue }
            if stale, errno == ECONNRESET { throw StaleConnection() }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw LoadError("receive timed out after \(timeoutSeconds) s") }
            throw LoadError("receive: \(errorText())")
        }
    }

    /// Consumes `count` body bytes: the buffered ones, then straight from the socket.
    private func discard(_ count: Int) throws {
        var left = count
        let buffered = min(left, end - start)
        start += buffered
        left -= buffered
        if start == end {
            start = 0
            end = 0
        }
        while left > 0 {
            #if os(Linux)
                let n = try receive(into: buffer.baseAddress!, count: min(left, 1 << 30), flags: Int32(MSG_TRUNC))
            #else
                let n = try receive(into: buffer.baseAddress!, count: min(left, buffer.count), flags: 0)
            #endif
            guard n > 0 else { throw LoadError("connection closed with \(left) body bytes to come") }
            left -= n
        }
    }

    private func discardToEnd() throws -> Int {
        var total = end - start
        start = 0
        end = 0
        while true {
            let n = try receive(into: buffer.baseAddress!, count: buffer.count, flags: 0)
            if n == 0 { return total }
            total += n
        }
    }

    /// A chunked body: its decoded length. Chunk extensions and trailers are skipped.
    private func readChunked() throws -> Int {
        var total = 0
        while true {
            let line = try readLine()
            var size = 0
            var digits = 0
            for byte in UnsafeRawBufferPointer(rebasing: buffer[line]) {
                guard let digit = Self.hexValue(byte) else { break }
                size = size * 16 + Int(digit)
                digits += 1
                guard digits <= 15 else { throw LoadError("malformed chunk size") }
            }
            guard digits > 0 else { throw LoadError("malformed chunk size") }
            if size == 0 {
                while !(try readLine()).isEmpty {}
                return total
            }
            try discard(size)
            total += size
            guard (try readLine()).isEmpty else { throw LoadError("malformed chunk end") }
        }
    }

    /// The next line's bytes (without its CRLF), consumed.
    private func readLine() throws -> Range<Int> {
        var scanned = 0
        while true {
            if let found = find(crlf, from: start + scanned) {
                let line = start..<found
                start = found + 2
                return line
            }
            scanned = max(0, end - start - 1)
            try fill()
        }
    }

    private let crlf: [UInt8] = [13, 10]
    private let crlfcrlf: [UInt8] = [13, 10, 13, 10]

    private func find(_ needle: [UInt8], from: Int) -> Int? {
        guard end - from >= needle.count else { return nil }
        var i = from
        while i <= end - needle.count {
            if buffer[i] == needle[0] {
                var matched = true
                for k in 1..<needle.count where buffer[i + k] != needle[k] {
                    matched = false
                    break
                }
                if matched { return i }
            }
            i += 1
        }
        return nil
    }

    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

/// What a load stream reads of a response head: the status and how the body is framed.
struct ResponseHead {
    var status: Int?
    var contentLength: Int?
    var chunked = false
    var close = false

    init(_ bytes: UnsafeRawBufferPointer) {
        var lines = bytes.split(separator: 10, omittingEmptySubsequences: true).makeIterator()
        guard let statusLine = lines.next(), statusLine.count >= 12,
            statusLine.starts(with: "HTTP/1.".utf8)
        else { return }
        let base = statusLine.startIndex
        let code = statusLine[(base + 9)..<(base + 12)]
        guard code.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return }
        status = code.reduce(0) { $0 * 10 + Int($1 - 48) }
        if statusLine[base + 7] == UInt8(ascii: "0") { close = true }  // HTTP/1.0 closes unless told otherwise
        for line in lines {
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { continue }
            let name = line[line.startIndex..<colon]
            var value: [UInt8] {
                line[(colon + 1)...].filter { $0 != 32 && $0 != 9 && $0 != 13 }.map { $0 | 0x20 }
            }
            if Self.equalsLowercased(name, "content-length") {
                let value = value
                contentLength =
                    value.isEmpty || value.count > 18 || !value.allSatisfy({ $0 >= 48 && $0 <= 57 })
                    ? nil : value.reduce(0) { $0 * 10 + Int($1 - 48) }
            } else if Self.equalsLowercased(name, "transfer-encoding") {
                chunked = value.elementsEqual("chunked".utf8) || value.suffix(8).elementsEqual(",chunked".utf8)
            } else if Self.equalsLowercased(name, "connection") {
                let value = value
                if value.elementsEqual("close".utf8) { close = true }
                if value.elementsEqual("keep-alive".utf8) { close = false }
            }
        }
    }

    static func equalsLowercased(_ name: Slice<UnsafeRawBufferPointer>, _ lower: StaticString) -> Bool {
        guard name.count == lower.utf8CodeUnitCount else { return false }
        return zip(name, UnsafeBufferPointer(start: lower.utf8Start, count: lower.utf8CodeUnitCount)).allSatisfy {
            $0 | 0x20 == $1
        }
    }
}

/// The server closed a kept-alive connection before this request reached it: worth one retry.
struct StaleConnection: Error, CustomStringConvertible {
    var description: String { "the server closed a kept-alive connection" }
}

private func errorText() -> String { String(cString: strerror(errno)) }

private func systemClose(_ fd: Int32) -> Int32 {
    #if os(Linux)
        Glibc.close(fd)
    #else
        Darwin.close(fd)
    #endif
}
