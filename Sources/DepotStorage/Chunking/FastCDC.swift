import DepotHashing

/// FastCDC chunk-size parameters. They define chunk identity: changing them means new uploads
/// no longer deduplicate against chunks stored before.
public struct ChunkerParameters: Sendable, Equatable, Codable {
    public var minimum: Int
    public var average: Int
    public var maximum: Int

    public init(minimum: Int, average: Int, maximum: Int) {
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
    }

    /// 256 KiB / 1 MiB / 4 MiB: one to fifty chunks for a typical 1–50 MB recording.
    public static let standard = ChunkerParameters(minimum: 256 << 10, average: 1 << 20, maximum: 4 << 20)

    public struct Invalid: Error, CustomStringConvertible {
        public let field: String
        public let reason: String
        public var description: String { "\(field) \(reason)" }
    }

    /// Checks the bounds; the error names the offending field (minimum, average or maximum).
    public func validate() throws {
        guard minimum >= 64 else { throw Invalid(field: "minimum", reason: "must be at least 64 bytes") }
        guard average > minimum else { throw Invalid(field: "average", reason: "must be larger than the minimum") }
        guard maximum > average else { throw Invalid(field: "maximum", reason: "must be larger than the average") }
        guard maximum <= 64 << 20 else { throw Invalid(field: "maximum", reason: "must be at most 64 MiB") }
    }

    /// log2 of the average, rounded to the nearest power of two: the masks test whole bits.
    var averageBits: Int {
        let lower = Int.bitWidth - 1 - average.leadingZeroBitCount
        let upperDistance = (1 << (lower + 1)) - average
        return upperDistance < average - (1 << lower) ? lower + 1 : lower
    }
}

/// The normalized FastCDC chunker (Xia et al., 2016 and 2020), written from the papers'
/// description: a Gear rolling hash (`h = (h << 1) + G[byte]`), no hashing of the first
/// `minimum` bytes of a chunk, a strict mask (more bits, fewer cuts) until the average size and a
/// loose mask (fewer bits) after it, which pulls chunk sizes toward the average (normalization
/// level 2), and a forced cut at `maximum`.
public struct FastCDC: Sendable {
    public let parameters: ChunkerParameters
    let strictMask: UInt64
    let looseMask: UInt64

    /// Entry i is the first 8 bytes (big-endian) of SHA-256("D" followed by byte i). Derived, not
    /// tabulated, and fixed forever: chunk boundaries depend on it.
    static let gear: [UInt64] = (0..<256).map { i in
        let digest = DigestAlgorithm.sha256.hash([0x44, UInt8(i)])
        return digest.prefix(8).reduce(UInt64(0)) { $0 << 8 | UInt64($1) }
    }

    public init(_ parameters: ChunkerParameters) {
        self.parameters = parameters
        let bits = parameters.averageBits
        strictMask = Self.spreadMask(bits: bits + 2)
        looseMask = Self.spreadMask(bits: max(1, bits - 2))
    }

    /// A mask of `bits` one-bits spread evenly over bits 63…16. The Gear hash's high bits depend
    /// on the most recent ~64 bytes; spreading the tested bits (rather than taking a run of them)
    /// is what the FastCDC paper found to deduplicate slightly better.
    static func spreadMask(bits: Int) -> UInt64 {
        let count = min(bits, 48)
        var mask: UInt64 = 0
        for j in 0..<count { mask |= 1 << UInt64(63 - (j * 48) / count) }
        return mask
    }

    /// Length of the first chunk of `data`. Pass at least `maximum` bytes, or the final
    /// remainder of a stream.
    public func cutPoint(_ data: UnsafeRawBufferPointer) -> Int {
        let n = data.count
        let minimum = parameters.minimum
        if n <= minimum { return n }
        let end = min(n, parameters.maximum)
        let normal = min(end, parameters.average)
        guard let base = data.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return n }
        return Self.gear.withUnsafeBufferPointer { g in
            let table = g.baseAddress!
            var hash: UInt64 = 0
            var i = minimum
            let strict = strictMask
            while i < normal {
                hash = (hash &<< 1) &+ table[Int(base[i])]
                if hash & strict == 0 { return i + 1 }
                i += 1
            }
            let loose = looseMask
            while i < end {
                hash = (hash &<< 1) &+ table[Int(base[i])]
                if hash & loose == 0 { return i + 1 }
                i += 1
            }
            return end
        }
    }
}

/// Cuts a byte stream into FastCDC chunks as it arrives, holding at most twice the maximum
/// chunk size. A chunk is emitted as soon as its end is decided: once `maximum` bytes are
/// buffered after its start, or at `finish`.
public struct StreamingChunker {
    private final class Storage {
        let base: UnsafeMutableRawPointer
        let capacity: Int
        init(capacity: Int) {
            self.capacity = capacity
            base = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 64)
        }
        deinit { base.deallocate() }
    }

    private let cdc: FastCDC
    private let storage: Storage
    private var start = 0
    private var end = 0

    public init(_ parameters: ChunkerParameters) {
        cdc = FastCDC(parameters)
        storage = Storage(capacity: parameters.maximum * 2)
    }

    private var buffered: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage.base + start, count: end - start)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer, _ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let maximum = cdc.parameters.maximum
        var input = bytes
        while !input.isEmpty {
            if start == end && input.count >= maximum {
                // Nothing carried over: cut straight from the caller's buffer, no copy.
                let n = cdc.cutPoint(input)
                try emit(UnsafeRawBufferPointer(rebasing: input[0..<n]))
                input = UnsafeRawBufferPointer(rebasing: input[n...])
                continue
            }
            if end == storage.capacity {
                // Slide the carried bytes (less than `maximum`) to the front.
                let count = end - start
                storage.base.copyMemory(from: storage.base + start, byteCount: count)
                start = 0
                end = count
            }
            let take = min(storage.capacity - end, input.count)
            (storage.base + end).copyMemory(from: input.baseAddress!, byteCount: take)
            end += take
            input = UnsafeRawBufferPointer(rebasing: input[take...])
            while end - start >= maximum {
                let n = cdc.cutPoint(buffered)
                try emit(UnsafeRawBufferPointer(start: storage.base + start, count: n))
                start += n
            }
            if start == end {
                start = 0
                end = 0
            }
        }
    }

    public mutating func finish(_ emit: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        while end > start {
            let n = cdc.cutPoint(buffered)
            try emit(UnsafeRawBufferPointer(start: storage.base + start, count: n))
            start += n
        }
        start = 0
        end = 0
    }
}
