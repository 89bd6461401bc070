import COpenSSL

/// HMAC through OpenSSL's one-shot `HMAC()` (not deprecated in OpenSSL 3, unlike `HMAC_CTX`).
public enum HMAC {
    public static func sha256(key: [UInt8], message: [UInt8]) -> [UInt8] {
        message.withUnsafeBytes { sha256(key: key, message: $0) }
    }

    public static func sha256(key: [UInt8], message: UnsafeRawBufferPointer) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 32)
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            _ = COpenSSL.HMAC(
                EVP_sha256(), k.baseAddress, Int32(k.count),
                message.baseAddress?.assumingMemoryBound(to: UInt8.self), message.count, &out, &length)
        }
        return out
    }

    public static func sha256(key: [UInt8], message: String) -> [UInt8] {
        sha256(key: key, message: Array(message.utf8))
    }

    /// HMAC-SHA1, for AWS Signature Version 2 (still sent by s3cmd, awscli v1 presigned URLs and V2 browser forms).
    public static func sha1(key: [UInt8], message: [UInt8]) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: 20)
        var length: UInt32 = 0
        key.withUnsafeBytes { k in
            message.withUnsafeBytes { m in
                _ = COpenSSL.HMAC(
                    EVP_sha1(), k.baseAddress, Int32(k.count), m.baseAddress?.assumingMemoryBound(to: UInt8.self),
                    m.count, &out, &length)
            }
        }
        return out
    }
}

/// Compares secrets and signatures in time that does not depend on where they differ.
public func constantTimeEquals(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    if a.isEmpty { return true }
    return a.withUnsafeBytes { pa in b.withUnsafeBytes { pb in CRYPTO_memcmp(pa.baseAddress, pb.baseAddress, a.count) == 0 } }
}

public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    constantTimeEquals(Array(a.utf8), Array(b.utf8))
}

/// Cryptographically secure random bytes (OpenSSL's DRBG), for secrets, upload ids and signing keys.
public func secureRandomBytes(_ count: Int) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: count)
    guard RAND_bytes(&out, Int32(count)) == 1 else { fatalError("RAND_bytes failed") }
    return out
}
