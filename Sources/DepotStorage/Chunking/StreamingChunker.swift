/// Cuts a byte stream into FastCDC chunks as it arrives, with the same chunks as cutting the whole
/// stream at once with `FastCDC.cutPoint`, however the stream is split into pieces.
///
/// Every byte is scanned once and, where the caller lets it, never copied: a chunk is emitted as
/// the list of its pieces (`ChunkPieces`), which the segment store writes with one `pwritev`.
/// - a chunk that lies entirely inside one input buffer is emitted straight from it;
/// - the start of a chunk that goes on past an input buffer is kept where it is when the caller
///   gives an owner for that buffer (`append(_:owner:piece:_:)`: the chunker holds the owner until
///   the chunk is emitted), or copied into the chunker's own buffer otherwise, and for pieces too
///   small to be worth holding on to (except a chunk's first).
///
/// Why: with 8 × 32 MiB PUTs every chunk (1 MiB on average) spans about sixteen 64 KiB network
/// buffers, so copying them into a staging buffer moved every byte of every upload once more, out
/// of cache (one of the costs the large-object issue lists).
///
/// Memory: the copied bytes live in one buffer of `maximum` bytes (allocated on first use); kept
/// pieces are, but for a chunk's first, at least `smallestKeptPiece` bytes of buffers that NIO
/// allocates at most 64 KiB big, so an upload pins at most about twice `maximum` however its bytes
/// arrive.
///
/// The scan state (chunk length so far and Gear hash) is kept between calls, so a cut is found, and
/// its chunk emitted, as soon as the byte that ends it arrives: a cut point depends only on the
/// bytes before it. At the latest a chunk is emitted once it reaches `maximum` bytes, or by
/// `finish`. Emitted pointers are valid only during the `emit` call.
///
/// If `emit` throws, the chunk it was given is lost and the chunker must not be used further.
/// The type has value semantics: a copy gets its own buffer the first time either copy needs it.
public struct StreamingChunker {
    /// Pieces shorter than this are copied rather than kept: holding a whole network buffer for a
    /// few bytes of it would pin far more memory than the bytes (a client trickling single bytes).
    public static let smallestKeptPiece = 32 << 10
    /// Beyond this many pieces a chunk's further pieces are copied (`pwritev` takes at most
    /// IOV_MAX = 1024 buffers, and a chunk of `largestMaximum` in 32 KiB pieces would be 2,048).
    public static let mostKeptPieces = 512

    private enum PendingPiece {
        /// Bytes of a caller's buffer, valid as long as `owner` lives.
        case kept(owner: AnyObject, bytes: UnsafeRawBufferPointer)
        /// Bytes copied into `buffer` (by offset, so a copy-on-write moves them along).
        case copied(offset: Int, count: Int)
    }

    private let cdc: FastCDC
    /// The current, undecided chunk, in order; `state.length` bytes in all, all already scanned.
    private var pending: [PendingPiece] = []
    private var keptPieces = 0
    private var buffer: ChunkBuffer?
    private var copiedBytes = 0
    private var state = FastCDC.ScanState()

    public init(_ parameters: ChunkerParameters) {
        cdc = FastCDC(parameters)
    }

    public var parameters: ChunkerParameters { cdc.parameters }

    /// Bytes received but not yet emitted (the start of the current chunk).
    public var pendingByteCount: Int { state.length }

    /// Feeds the next bytes of the stream; `emit` receives every chunk they complete, in order, as
    /// one contiguous buffer (a chunk made of several pieces is gathered into a temporary one).
    public mutating func append(
        _ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void
    ) rethrows {
        try append(bytes, owner: nil, piece: { _ in }) { chunk in try chunk.withContiguousBytes(emit) }
    }

    /// Feeds the next bytes of the stream. `piece` receives the input in order, cut at chunk
    /// boundaries, before the chunk it belongs to is emitted: every byte of a chunk passes through
    /// `piece` exactly once, while it is still in cache. `emit` receives every chunk the input
    /// completes, in order, as its pieces.
    ///
    /// `owner`, when given, returns an object that keeps `bytes` valid and unchanged for as long
    /// as it lives (a box around the network buffer they are in): the chunker then keeps large
    /// pieces where they are instead of copying them.
    ///
    /// Why per piece: the content address (SHA-256 of each chunk) hashed from the input piece by
    /// piece costs less than hashing the whole chunk when it is complete, from memory that eight
    /// concurrent uploads' chunks (about 1 MiB each) have pushed out of the 2 MiB L2 cache. With
    /// 8 × 32 MiB PUTs on this machine SHA-256 took 32% of the server's CPU when hashed per chunk
    /// (0.98 GB/s against OpenSSL's 1.45 GB/s one-core rate).
    public mutating func append(
        _ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)?, piece: (UnsafeRawBufferPointer) throws -> Void,
        _ emit: (ChunkPieces) throws -> Void
    ) rethrows {
        guard let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
        var offset = 0
        while offset < bytes.count {
            let pendingCount = state.length
            let available = bytes.count - offset
            let cut = cdc.scan(base + offset, count: available, &state)
            if cut < 0 {
                // The chunk goes on past this input: keep its tail (fewer than `maximum` bytes in all).
                let tail = UnsafeRawBufferPointer(start: base + offset, count: available)
                try piece(tail)
                keep(tail, owner: owner)
                return
            }
            state = FastCDC.ScanState()
            let end = UnsafeRawBufferPointer(start: base + offset, count: cut)
            try piece(end)
            try emitPending(count: pendingCount, then: end, emit)
            offset += cut
        }
    }

    /// Ends the stream: emits the last chunk, if any bytes are pending, and resets the chunker for
    /// a new stream. The last chunk may be shorter than `minimum`; it is never longer than `maximum`
    /// and never has a cut point inside, since any earlier cut was already emitted by `append`.
    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        try finishPieces { chunk in try chunk.withContiguousBytes(emit) }
    }

    /// `finish`, giving the last chunk as its pieces.
    public mutating func finishPieces(_ emit: (ChunkPieces) throws -> Void) rethrows {
        let pendingCount = state.length
        state = FastCDC.ScanState()
        guard pendingCount > 0 else { return }
        try emitPending(count: pendingCount, then: nil, emit)
    }

    /// Emits the pending pieces, followed by `end` (the input up to the cut), then forgets them.
    /// The kept owners are released only after `emit` returns.
    private mutating func emitPending(
        count: Int, then end: UnsafeRawBufferPointer?, _ emit: (ChunkPieces) throws -> Void
    ) rethrows {
        if pending.isEmpty, let end {
            try emit(ChunkPieces([end], count: end.count))
            return
        }
        var pieces: [UnsafeRawBufferPointer] = []
        pieces.reserveCapacity(pending.count + 1)
        for item in pending {
            switch item {
            case .kept(_, let bytes): pieces.append(bytes)
            case .copied(let offset, let count):
                pieces.append(UnsafeRawBufferPointer(start: buffer!.base + offset, count: count))
            }
        }
        if let end, end.count > 0 { pieces.append(end) }
        try withExtendedLifetime(pending) {
            try emit(ChunkPieces(pieces, count: count + (end?.count ?? 0)))
        }
        pending.removeAll(keepingCapacity: true)
        keptPieces = 0
        copiedBytes = 0
    }

    private mutating func keep(_ bytes: UnsafeRawBufferPointer, owner: (() -> AnyObject)?) {
        // The first piece of a chunk is kept whatever its size (usually the rest of the buffer
        // that ended the previous chunk): one buffer per chunk pins little.
        if let owner, pending.isEmpty || bytes.count >= Self.smallestKeptPiece, keptPieces < Self.mostKeptPieces {
            pending.append(.kept(owner: owner(), bytes: bytes))
            keptPieces += 1
            return
        }
        let storage = storage()
        storage.append(bytes, at: copiedBytes)
        if case .copied(let offset, let count)? = pending.last, offset + count == copiedBytes {
            pending[pending.count - 1] = .copied(offset: offset, count: count + bytes.count)
        } else {
            pending.append(.copied(offset: copiedBytes, count: bytes.count))
        }
        copiedBytes += bytes.count
    }

    /// The buffer, allocated on first use and made unique before any write (copy-on-write); its
    /// first `copiedBytes` bytes are the copied pending ones.
    private mutating func storage() -> ChunkBuffer {
        if isKnownUniquelyReferenced(&buffer), let existing = buffer { return existing }
        let fresh = ChunkBuffer(capacity: cdc.parameters.maximum)
        if let shared = buffer {
            fresh.base.copyMemory(from: shared.base, byteCount: copiedBytes)
        }
        buffer = fresh
        return fresh
    }
}

/// One chunk's bytes as the pieces they arrived in, valid only during the `emit` call.
public struct ChunkPieces {
    public let pieces: [UnsafeRawBufferPointer]
    /// Bytes in all pieces together.
    public let count: Int

    init(_ pieces: [UnsafeRawBufferPointer], count: Int) {
        self.pieces = pieces
        self.count = count
    }

    /// Calls `body` with the chunk's bytes in one buffer: the piece itself when there is one,
    /// otherwise a temporary copy (for callers that need contiguous bytes, such as a cipher).
    public func withContiguousBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        if pieces.count == 1 { return try body(pieces[0]) }
        let gathered = UnsafeMutableRawBufferPointer.allocate(byteCount: count, alignment: 64)
        defer { gathered.deallocate() }
        var offset = 0
        for piece in pieces where piece.count > 0 {
            (gathered.baseAddress! + offset).copyMemory(from: piece.baseAddress!, byteCount: piece.count)
            offset += piece.count
        }
        return try body(UnsafeRawBufferPointer(gathered))
    }
}

/// Copied bytes of one chunk. A class so that the struct above stays small and frees it in deinit.
private final class ChunkBuffer {
    let base: UnsafeMutableRawPointer
    let capacity: Int

    init(capacity: Int) {
        self.capacity = capacity
        base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
    }

    deinit { base.deallocate() }

    func append(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        precondition(offset + bytes.count <= capacity, "chunk longer than the maximum")
        guard let source = bytes.baseAddress else { return }
        (base + offset).copyMemory(from: source, byteCount: bytes.count)
    }
}
