import COpenSSL

/// The message digests Depot uses: SHA-256 addresses chunks and signs requests, MD5 makes S3 ETags,
/// SHA-1 is one of the S3 flexible checksums. All of them come from OpenSSL's EVP interface, which
/// uses the CPU's SHA instructions.
public enum DigestAlgorithm: Sendable {
    case sha256
    case md5
    case sha1

    var evp: OpaquePointer {
        switch self {
        case .sha256: return EVP_sha256()
        case .md5: return EVP_md5()
        case .sha1: return EVP_sha1()
        }
    }

    public var byteCount: Int {
        switch self {
        case .sha256: return 32
        case .md5: return 16
        case .sha1: return 20
        }
    }

    /// One-shot digest of a byte buffer.
    public func hash(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        let digest = StreamingDigest(self)
        digest.update(bytes)
        return digest.finalize()
    }

    public func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        let digest = StreamingDigest(self)
        digest.update(bytes)
        return digest.finalize()
    }
}

/// An incremental digest. A class, not a struct, so that one upload's several hashers can be
/// composed without copy semantics; it is used by one task at a time and is not Sendable.
public final class StreamingDigest {
    private let context: OpaquePointer
    public let algorithm: DigestAlgorithm

    public init(_ algorithm: DigestAlgorithm) {
        self.algorithm = algorithm
        guard let context = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new failed: out of memory") }
        self.context = context
        EVP_DigestInit_ex(context, algorithm.evp, nil)
    }

    deinit { EVP_MD_CTX_free(context) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
    }

    public func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        let done: Void? = bytes.withContiguousStorageIfAvailable { self.update(UnsafeRawBufferPointer($0)) }
        if done == nil {
            let copy = Array(bytes)
            copy.withUnsafeBytes { self.update($0) }
        }
    }

    /// Returns the digest and resets the context, so the object can be reused for the next message.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        EVP_DigestInit_ex(context, algorithm.evp, nil)
        return Array(out.prefix(Int(length)))
    }
}
