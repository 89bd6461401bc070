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
        if self == .sha256 {
            return [UInt8](unsafeUninitializedCapacity: 32) { out, count in
                Self.sha256(bytes, into: UnsafeMutableRawBufferPointer(out))
                count = 32
            }
        }
        let digest = StreamingDigest(self)
        digest.update(bytes)
        return digest.finalize()
    }

    public func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        if let digest = bytes.withContiguousStorageIfAvailable({ hash(UnsafeRawBufferPointer($0)) }) { return digest }
        let digest = StreamingDigest(self)
        digest.update(bytes)
        return digest.finalize()
    }

    /// SHA-256 of `bytes` into the first 32 bytes of `digest`, with no EVP context and no array: the
    /// whole blocks and the padded tail go through OpenSSL's block function (SHA-NI where the CPU has
    /// it) on a state on the stack. Every signed request hashes its canonical request once; through
    /// `StreamingDigest` that made and freed an EVP context, re-initialised it in `finalize` and
    /// returned two arrays (0.8% of a 4 KiB GET's server CPU, RESULTS-NOTES "SigV4 verification on
    /// bytes"), for a few hundred bytes of hashing.
    public static func sha256(_ bytes: UnsafeRawBufferPointer, into digest: UnsafeMutableRawBufferPointer) {
        precondition(digest.count >= 32, "a SHA-256 digest is 32 bytes")
        // FIPS 180-4 5.3.3.
        var state: (UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32, UInt32) = (
            0x6a09_e667, 0xbb67_ae85, 0x3c6e_f372, 0xa54f_f53a, 0x510e_527f, 0x9b05_688c, 0x1f83_d9ab, 0x5be0_cd19
        )
        withUnsafeMutableBytes(of: &state) { stateBytes in
            let words = stateBytes.baseAddress!.assumingMemoryBound(to: UInt32.self)
            let whole = bytes.count / 64
            if whole > 0 { depot_openssl_sha256_blocks(words, bytes.baseAddress!, whole) }
            let tail = bytes.count - whole * 64
            // The tail, 0x80, zeros and the length in bits big-endian: one block, or two when the
            // tail leaves fewer than 9 bytes (FIPS 180-4 5.1.1).
            withUnsafeTemporaryAllocation(byteCount: 128, alignment: 8) { last in
                last.initializeMemory(as: UInt8.self, repeating: 0)
                if tail > 0 {
                    last.baseAddress!.copyMemory(from: bytes.baseAddress! + whole * 64, byteCount: tail)
                }
                last[tail] = 0x80
                let length = tail < 56 ? 64 : 128
                let bits = UInt64(bytes.count) &* 8
                for i in 0..<8 { last[length - 1 - i] = UInt8(truncatingIfNeeded: bits >> (8 * UInt64(i))) }
                depot_openssl_sha256_blocks(words, UnsafeRawPointer(last.baseAddress!), length / 64)
            }
            for i in 0..<8 {
                let word = words[i]
                for j in 0..<4 { digest[4 * i + j] = UInt8(truncatingIfNeeded: word >> (24 - 8 * UInt32(j))) }
            }
        }
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
