import DepotStorage

/// One piece of an object's bytes: a run of a local chunk, or bytes a tier sent.
public struct ObjectBytePiece: @unchecked Sendable {
    enum Content {
        case local(ReadPiece)
        case fetched([UInt8])
    }

    public let count: Int
    let content: Content
    let reader: ObjectReader

    /// Copies the piece into `buffer`, which must hold exactly `count` bytes.
    public func copy(into buffer: UnsafeMutableRawBufferPointer) throws {
        precondition(buffer.count == count)
        switch content {
        case .local(let piece): try reader.read(piece, into: buffer)
        case .fetched(let bytes): bytes.withUnsafeBytes { buffer.copyMemory(from: $0) }
        }
    }
}

extension ObjectReader {
    /// The one place that decides where an object's bytes are read from: the local chunks, or,
    /// for an object a transition evicted, the first tier holding a confirmed copy. Throws
    /// `invalidObjectState` at once when the object is evicted and no tier can serve it, so a
    /// front door refuses the request instead of answering `Content-Length: N` with no bytes.
    /// The sequence throws if the source ends short of (or runs past) the range: a copy or a
    /// response never completes with bytes missing.
    public func bytes(_ range: Range<UInt64>, maxPiece: Int = 1 << 20) throws -> ObjectBytes {
        guard range.upperBound <= record.size else {
            throw EngineError.io("reading \(bucket)/\(key): range \(range) is past its \(record.size) bytes")
        }
        if isLocal { return ObjectBytes(reader: self, range: range, source: .local(plan(range, maxPiece: maxPiece))) }
        guard let readThrough else { throw EngineError.invalidObjectState(key) }
        let stream: AsyncThrowingStream<[UInt8], Error>
        do {
            stream = try readThrough(bucket, key, record, range)
        } catch {
            throw EngineError.invalidObjectState(key)
        }
        return ObjectBytes(reader: self, range: range, source: .remote(stream))
    }
}

/// A byte range of an object as an async sequence of pieces (see `ObjectReader.bytes`).
public struct ObjectBytes: AsyncSequence, @unchecked Sendable {
    public typealias Element = ObjectBytePiece

    enum Source {
        case local([ReadPiece])
        case remote(AsyncThrowingStream<[UInt8], Error>)
    }

    let reader: ObjectReader
    let range: Range<UInt64>
    let source: Source

    public struct AsyncIterator: AsyncIteratorProtocol {
        enum State {
            case local([ReadPiece], next: Int)
            case remote(AsyncThrowingStream<[UInt8], Error>.AsyncIterator)
            case done
        }

        let reader: ObjectReader
        let expected: UInt64
        var state: State
        var delivered: UInt64 = 0

        public mutating func next() async throws -> ObjectBytePiece? {
            switch state {
            case .done:
                return nil
            case .local(let pieces, let index):
                guard index < pieces.count else { return try finish() }
                state = .local(pieces, next: index + 1)
                return try deliver(ObjectBytePiece(count: pieces[index].count, content: .local(pieces[index]), reader: reader))
            case .remote(var iterator):
                while true {
                    let next: [UInt8]?
                    do {
                        next = try await iterator.next()
                    } catch {
                        // The front doors see an engine error that names the object, whatever the tier said.
                        state = .done
                        throw EngineError.io("reading \(reader.bucket)/\(reader.key) from its tier: \(error)")
                    }
                    guard let bytes = next else { return try finish() }
                    state = .remote(iterator)
                    if bytes.isEmpty { continue }
                    return try deliver(ObjectBytePiece(count: bytes.count, content: .fetched(bytes), reader: reader))
                }
            }
        }

        private mutating func deliver(_ piece: ObjectBytePiece) throws -> ObjectBytePiece {
            delivered += UInt64(piece.count)
            guard delivered <= expected else {
                state = .done
                throw EngineError.io(
                    "reading \(reader.bucket)/\(reader.key): the source sent more than the \(expected) bytes asked for")
            }
            return piece
        }

        private mutating func finish() throws -> ObjectBytePiece? {
            state = .done
            guard delivered == expected else {
                throw EngineError.io(
                    "reading \(reader.bucket)/\(reader.key): the source ended after \(delivered) of \(expected) bytes")
            }
            return nil
        }
    }

    public func makeAsyncIterator() -> AsyncIterator {
        switch source {
        case .local(let pieces):
            return AsyncIterator(reader: reader, expected: UInt64(range.count), state: .local(pieces, next: 0))
        case .remote(let stream):
            return AsyncIterator(reader: reader, expected: UInt64(range.count), state: .remote(stream.makeAsyncIterator()))
        }
    }
}
