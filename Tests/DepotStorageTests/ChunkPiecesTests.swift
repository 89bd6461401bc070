import DepotHashing
import DepotStorage
import Foundation
import Glibc
import Testing

/// Chunks emitted as the pieces they arrived in: the same bytes as one-shot cutting, large pieces
/// written from the caller's buffers (held by their owners only until their chunk is emitted),
/// small ones copied, and a record written from pieces reading back with a valid CRC.
struct ChunkPiecesTests {
    static let parameters = ChunkerParameters(minimum: 64 << 10, average: 256 << 10, maximum: 1 << 20)

    /// One network buffer: its own allocation, so whether a piece points into it is decidable.
    final class Buffer {
        let bytes: UnsafeMutableRawBufferPointer
        init(_ source: ArraySlice<UInt8>) {
            bytes = .allocate(byteCount: source.count, alignment: 8)
            source.withUnsafeBytes { bytes.copyMemory(from: $0) }
        }
        deinit { bytes.deallocate() }
        func contains(_ piece: UnsafeRawBufferPointer) -> Bool {
            let start = UInt(bitPattern: bytes.baseAddress)
            let end = start + UInt(bytes.count)
            let p = UInt(bitPattern: piece.baseAddress)
            return p >= start && p + UInt(piece.count) <= end
        }
    }

    struct Fed {
        var chunks: [[UInt8]] = []
        var piecesInBuffers = 0
        var piecesCopied = 0
        var mostBuffersAlive = 0
    }

    /// Feeds `data` in buffers of `sizes` (cycled), each owned only by the chunker once fed, and
    /// records what was emitted and how many buffers were alive at any emit.
    static func feed(_ data: [UInt8], sizes: [Int], withOwner: Bool = true) -> Fed {
        var chunker = StreamingChunker(parameters)
        var fed = Fed()
        var alive: [Weak] = []
        func record(_ chunk: ChunkPieces) {
            var bytes: [UInt8] = []
            for piece in chunk.pieces {
                bytes += Array(piece)
                if alive.contains(where: { $0.buffer?.contains(piece) ?? false }) {
                    fed.piecesInBuffers += 1
                } else {
                    fed.piecesCopied += 1
                }
            }
            #expect(bytes.count == chunk.count)
            fed.chunks.append(bytes)
            fed.mostBuffersAlive = max(fed.mostBuffersAlive, alive.filter { $0.buffer != nil }.count)
        }
        var offset = 0
        var i = 0
        while offset < data.count {
            let end = min(data.count, offset + sizes[i % sizes.count])
            do {
                let buffer = Buffer(data[offset..<end])
                alive.append(Weak(buffer))
                chunker.append(
                    UnsafeRawBufferPointer(buffer.bytes), owner: withOwner ? { buffer } : nil, piece: { _ in }, record)
            }
            offset = end
            i += 1
        }
        chunker.finishPieces(record)
        return fed
    }

    final class Weak {
        weak var buffer: Buffer?
        init(_ buffer: Buffer) { self.buffer = buffer }
    }

    static func oneShot(_ data: [UInt8]) -> [[UInt8]] {
        let cdc = FastCDC(parameters)
        var chunks: [[UInt8]] = []
        data.withUnsafeBytes { all in
            var offset = 0
            while offset < all.count {
                let length = cdc.cutPoint(UnsafeRawBufferPointer(rebasing: all[offset...]))
                chunks.append(Array(all[offset..<offset + length]))
                offset += length
            }
        }
        return chunks
    }

    @Test func largeBuffersAreWrittenFromWhereTheyAreAndReleasedAfterTheirChunk() {
        let data = ChunkerTests.randomBytes(6 << 20, seed: 21)
        let fed = Self.feed(data, sizes: [65536])
        #expect(fed.chunks == Self.oneShot(data))
        #expect(fed.piecesCopied == 0, "64 KiB buffers are kept, never copied")
        #expect(fed.piecesInBuffers > 90)
        // A chunk is at most 1 MiB: 17 buffers of 64 KiB (and the one being fed) at most.
        #expect(fed.mostBuffersAlive <= (1 << 20) / 65536 + 2)
    }

    @Test func smallBuffersAndBuffersWithoutOwnerAreCopied() {
        let data = ChunkerTests.randomBytes(3 << 20, seed: 22)
        let small = Self.feed(data, sizes: [1000, 7000, 31_000])
        #expect(small.chunks == Self.oneShot(data))
        // A chunk's first piece is kept, the buffer being fed ends it, and every other small piece
        // was copied (in runs merged into one piece) and its buffer released at once.
        #expect(small.mostBuffersAlive <= 2)
        #expect(small.piecesCopied >= small.chunks.count - 1)
        let unowned = Self.feed(data, sizes: [65536], withOwner: false)
        #expect(unowned.chunks == Self.oneShot(data))
        #expect(unowned.mostBuffersAlive <= 1)
    }

    @Test func mixedSizesGiveTheOneShotChunks() {
        let data = ChunkerTests.randomBytes(5 << 20, seed: 23)
        let fed = Self.feed(data, sizes: [40_000, 300, 65536, 32768, 32767, 1, 100_000])
        #expect(fed.chunks == Self.oneShot(data))
        #expect(fed.piecesInBuffers > 0 && fed.piecesCopied > 0)
    }

    @Test func aRecordWrittenFromPiecesReadsBackWithAValidCRC() throws {
        var template = Array("/tmp/depot-pieces-XXXXXX".utf8CString)
        let dir = template.withUnsafeMutableBufferPointer { String(cString: mkdtemp($0.baseAddress!)) }
        defer { _ = system("rm -rf '\(dir)'") }
        let store = try SegmentStore(directory: dir, segmentSize: 64 << 20)
        let parts = [ChunkerTests.randomBytes(70_000, seed: 1), [], ChunkerTests.randomBytes(5, seed: 2)]
        let whole = parts.flatMap { $0 }
        let location = try parts[0].withUnsafeBytes { a in
            try parts[1].withUnsafeBytes { b in
                try parts[2].withUnsafeBytes { c in
                    try store.append(kind: .chunk, sequence: 7, pieces: [a, b, c])
                }
            }
        }
        try store.syncDirty()
        #expect(location.length == UInt32(whole.count))
        #expect(try store.readPayload(location) == whole)
        var scanned: [[UInt8]] = []
        let summary = try SegmentScanner.scan(path: store.path(of: location.segment), segment: location.segment) {
            scanned.append($0.payload)
        }
        #expect(scanned == [whole] && summary.trailingBytes == 0)
    }
}
