/// A compact, versionable binary encoding for index values and segment records: little-endian
/// fixed integers, LEB128 varints, length-prefixed bytes and strings. Hand-rolled because the
/// values are on the hot path (one object record per PUT) and must stay byte-stable on disk.
public struct BinaryWriter: Sendable {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public mutating func u8(_ v: UInt8) { bytes.append(v) }

    public mutating func u32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    public mutating func u64(_ v: UInt64) { withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) } }

    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7f) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    public mutating func varint(_ v: Int) { varint(UInt64(v)) }

    public mutating func signed(_ v: Int64) { varint(UInt64(bitPattern: (v << 1) ^ (v >> 63))) }

    public mutating func raw(_ v: [UInt8]) { bytes.append(contentsOf: v) }

    public mutating func blob(_ v: [UInt8]) {
        varint(v.count)
        bytes.append(contentsOf: v)
    }

    public mutating func string(_ v: String) {
        let utf8 = Array(v.utf8)
        varint(utf8.count)
        bytes.append(contentsOf: utf8)
    }

    public mutating func bool(_ v: Bool) { bytes.append(v ? 1 : 0) }

    public mutating func pairs(_ v: [(String, String)]) {
        varint(v.count)
        for (k, value) in v {
            string(k)
            string(value)
        }
    }
}

public struct DecodeError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

public struct BinaryReader {
    private let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    public var isAtEnd: Bool { offset >= bytes.count }
    public var remaining: Int { bytes.count - offset }

    private mutating func take(_ n: Int) throws -> UnsafeRawBufferPointer {
        guard n >= 0, offset + n <= bytes.count else { throw DecodeError("truncated value at \(offset)") }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + n])
    }

    public mutating func u8() throws -> UInt8 { try take(1)[0] }

    public mutating func u32() throws -> UInt32 { UInt32(littleEndian: try take(4).loadUnaligned(as: UInt32.self)) }

    public mutating func u64() throws -> UInt64 { UInt64(littleEndian: try take(8).loadUnaligned(as: UInt64.self)) }

    public mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try u8()
            guard shift < 64 else { throw DecodeError("varint too long") }
            result |= UInt64(b & 0x7f) << shift
            if b < 0x80 { return result }
            shift += 7
        }
    }

    public mutating func int() throws -> Int {
        let v = try varint()
        guard v <= UInt64(Int.max) else { throw DecodeError("integer out of range") }
        return Int(v)
    }

    public mutating func signed() throws -> Int64 {
        let v = try varint()
        return Int64(bitPattern: (v >> 1) ^ (0 &- (v & 1)))
    }

    public mutating func raw(_ n: Int) throws -> [UInt8] { Array(try take(n)) }

    public mutating func blob() throws -> [UInt8] { Array(try take(try int())) }

    public mutating func string() throws -> String { String(decoding: try take(try int()), as: UTF8.self) }

    public mutating func bool() throws -> Bool { try u8() != 0 }

    public mutating func pairs() throws -> [(String, String)] {
        let n = try int()
        guard n <= remaining else { throw DecodeError("bad pair count") }
        var out: [(String, String)] = []
        out.reserveCapacity(n)
        for _ in 0..<n { out.append((try string(), try string())) }
        return out
    }
}

extension Array where Element == UInt8 {
    /// Decodes with a reader over this array's bytes.
    public func decode<T>(_ body: (inout BinaryReader) throws -> T) throws -> T {
        try withUnsafeBytes { buffer in
            var reader = BinaryReader(buffer)
            return try body(&reader)
        }
    }
}
