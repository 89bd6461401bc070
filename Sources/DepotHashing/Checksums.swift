import CDepotChecksums

/// CRC32 (IEEE), as S3's `x-amz-checksum-crc32`.
public struct CRC32: Sendable, Equatable {
    public private(set) var value: UInt32 = 0
    public init(value: UInt32 = 0) { self.value = value }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = depot_crc32(value, bytes.baseAddress, bytes.count)
    }
    public static func combine(_ a: UInt32, _ b: UInt32, lengthOfB: UInt64) -> UInt32 {
        depot_crc32_combine(a, b, lengthOfB)
    }
}

/// CRC32C (Castagnoli): segment records and S3's `x-amz-checksum-crc32c`; hardware-accelerated.
public struct CRC32C: Sendable, Equatable {
    public private(set) var value: UInt32 = 0
    public init(value: UInt32 = 0) { self.value = value }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = depot_crc32c(value, bytes.baseAddress, bytes.count)
    }
    public mutating func update(_ bytes: [UInt8]) { bytes.withUnsafeBytes { update($0) } }
    public static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 { depot_crc32c(0, bytes.baseAddress, bytes.count) }
    public static func combine(_ a: UInt32, _ b: UInt32, lengthOfB: UInt64) -> UInt32 {
        depot_crc32c_combine(a, b, lengthOfB)
    }
}

/// CRC64/NVME, as S3's `x-amz-checksum-crc64nvme`.
public struct CRC64NVME: Sendable, Equatable {
    public private(set) var value: UInt64 = 0
    public init(value: UInt64 = 0) { self.value = value }
    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = depot_crc64nvme(value, bytes.baseAddress, bytes.count)
    }
    public static func combine(_ a: UInt64, _ b: UInt64, lengthOfB: UInt64) -> UInt64 {
        depot_crc64nvme_combine(a, b, lengthOfB)
    }
}

/// The S3 flexible-checksum algorithms, by the names S3 uses in headers and XML.
public enum ChecksumAlgorithm: String, Sendable, CaseIterable, Codable {
    case crc32 = "CRC32"
    case crc32c = "CRC32C"
    case crc64nvme = "CRC64NVME"
    case sha1 = "SHA1"
    case sha256 = "SHA256"

    /// The header that carries this checksum, e.g. `x-amz-checksum-crc32`.
    public var headerName: String { "x-amz-checksum-" + rawValue.lowercased() }

    public init?(headerValue: String) { self.init(rawValue: headerValue.uppercased()) }

    public var digestByteCount: Int {
        switch self {
        case .crc32, .crc32c: return 4
        case .crc64nvme: return 8
        case .sha1: return 20
        case .sha256: return 32
        }
    }
}

/// One running S3 checksum of any algorithm; `finalize()` gives the raw big-endian bytes.
public final class StreamingChecksum {
    public let algorithm: ChecksumAlgorithm
    private var crc32 = CRC32()
    private var crc32c = CRC32C()
    private var crc64 = CRC64NVME()
    private let digest: StreamingDigest?

    public init(_ algorithm: ChecksumAlgorithm) {
        self.algorithm = algorithm
        switch algorithm {
        case .sha1: digest = StreamingDigest(.sha1)
        case .sha256: digest = StreamingDigest(.sha256)
        default: digest = nil
        }
    }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        switch algorithm {
        case .crc32: crc32.update(bytes)
        case .crc32c: crc32c.update(bytes)
        case .crc64nvme: crc64.update(bytes)
        case .sha1, .sha256: digest!.update(bytes)
        }
    }

    public func finalize() -> [UInt8] {
        switch algorithm {
        case .crc32: return bigEndianBytes(crc32.value)
        case .crc32c: return bigEndianBytes(crc32c.value)
        case .crc64nvme: return bigEndianBytes(crc64.value)
        case .sha1, .sha256: return digest!.finalize()
        }
    }
}

@inlinable
public func bigEndianBytes<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
    withUnsafeBytes(of: value.bigEndian) { Array($0) }
}
