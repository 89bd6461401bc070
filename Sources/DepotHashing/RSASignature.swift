import COpenSSL

/// RSASSA-PKCS1-v1_5 with SHA-256 (JWT's RS256) through OpenSSL: the GCS tier signs the JWT it
/// exchanges for an access token with a service account's private key.
public enum RSASignature {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// Signs `message` with a PEM private key (PKCS#8 `BEGIN PRIVATE KEY`, as in Google's
    /// service-account JSON, or PKCS#1 `BEGIN RSA PRIVATE KEY`).
    public static func sha256(pemPrivateKey: String, message: [UInt8]) throws -> [UInt8] {
        let pem = Array(pemPrivateKey.utf8)
        let key: OpaquePointer? = pem.withUnsafeBytes { bytes in
            guard let bio = BIO_new_mem_buf(bytes.baseAddress, Int32(bytes.count)) else { return nil }
            defer { BIO_free(bio) }
            return PEM_read_bio_PrivateKey(bio, nil, nil, nil)
        }
        guard let key else { throw Failure(description: "the private key is not a PEM RSA key") }
        defer { EVP_PKEY_free(key) }
        guard let context = EVP_MD_CTX_new() else { throw Failure(description: "out of memory") }
        defer { EVP_MD_CTX_free(context) }
        guard EVP_DigestSignInit(context, nil, EVP_sha256(), nil, key) == 1 else {
            throw Failure(description: "the key cannot sign with SHA-256")
        }
        var length = 0
        guard EVP_DigestSign(context, nil, &length, message, message.count) == 1 else {
            throw Failure(description: "signing failed")
        }
        var signature = [UInt8](repeating: 0, count: length)
        guard EVP_DigestSign(context, &signature, &length, message, message.count) == 1 else {
            throw Failure(description: "signing failed")
        }
        return Array(signature.prefix(length))
    }
}
