import COpenSSL

/// AES-256-GCM through OpenSSL's EVP interface: authenticated encryption for secrets kept at
/// rest (stored account secrets). A sealed box is nonce (12 bytes) + ciphertext + tag (16 bytes);
/// the nonce is random per seal, and opening checks the tag before giving any plaintext back.
public enum AES256GCM {
    public static let keySize = 32
    public static let nonceSize = 12
    public static let tagSize = 16

    public enum Failure: Error, Equatable {
        /// The key is not 32 bytes, or the nonce not 12.
        case badKeyOrNonce
        /// The box is shorter than nonce + tag.
        case truncated
        /// The tag does not match: wrong key, wrong associated data, or changed bytes.
        case authenticationFailed
        /// OpenSSL refused a step (out of memory, a broken library).
        case library
    }

    /// Encrypts with a fresh random nonce; returns nonce + ciphertext + tag.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(Failure) -> [UInt8] {
        let nonce = secureRandomBytes(nonceSize)
        let (ciphertext, tag) = try encrypt(plaintext, key: key, nonce: nonce, associatedData: associatedData)
        return nonce + ciphertext + tag
    }

    /// Checks and decrypts a box made by `seal` with the same key and associated data.
    public static func open(_ box: [UInt8], key: [UInt8], associatedData: [UInt8] = []) throws(Failure) -> [UInt8] {
        guard box.count >= nonceSize + tagSize else { throw .truncated }
        let nonce = Array(box[..<nonceSize])
        let ciphertext = Array(box[nonceSize..<(box.count - tagSize)])
        let tag = Array(box[(box.count - tagSize)...])
        return try decrypt(ciphertext, tag: tag, key: key, nonce: nonce, associatedData: associatedData)
    }

    /// The raw operation with a caller-chosen nonce (known-answer tests; `seal` for real use:
    /// a nonce must never repeat under one key).
    public static func encrypt(_ plaintext: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = [])
        throws(Failure) -> (ciphertext: [UInt8], tag: [UInt8])
    {
        guard key.count == keySize, nonce.count == nonceSize else { throw .badKeyOrNonce }
        guard let context = EVP_CIPHER_CTX_new() else { throw .library }
        defer { EVP_CIPHER_CTX_free(context) }
        var ciphertext = [UInt8](repeating: 0, count: plaintext.count + 16)
        var tag = [UInt8](repeating: 0, count: tagSize)
        var length: Int32 = 0
        var total = 0
        guard EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw .library }
        if !associatedData.isEmpty {
            guard EVP_EncryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw .library
            }
        }
        if !plaintext.isEmpty {
            guard EVP_EncryptUpdate(context, &ciphertext, &length, plaintext, Int32(plaintext.count)) == 1 else {
                throw .library
            }
            total = Int(length)
        }
        let finished = ciphertext.withUnsafeMutableBufferPointer { out in
            EVP_EncryptFinal_ex(context, out.baseAddress! + total, &length)
        }
        guard finished == 1 else { throw .library }
        total += Int(length)
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_GET_TAG, Int32(tagSize), &tag) == 1 else { throw .library }
        return (Array(ciphertext.prefix(total)), tag)
    }

    public static func decrypt(
        _ ciphertext: [UInt8], tag: [UInt8], key: [UInt8], nonce: [UInt8], associatedData: [UInt8] = []
    ) throws(Failure) -> [UInt8] {
        guard key.count == keySize, nonce.count == nonceSize else { throw .badKeyOrNonce }
        guard tag.count == tagSize else { throw .truncated }
        guard let context = EVP_CIPHER_CTX_new() else { throw .library }
        defer { EVP_CIPHER_CTX_free(context) }
        var plaintext = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        var total = 0
        guard EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1 else { throw .library }
        if !associatedData.isEmpty {
            guard EVP_DecryptUpdate(context, nil, &length, associatedData, Int32(associatedData.count)) == 1 else {
                throw .library
            }
        }
        if !ciphertext.isEmpty {
            guard EVP_DecryptUpdate(context, &plaintext, &length, ciphertext, Int32(ciphertext.count)) == 1 else {
                throw .library
            }
            total = Int(length)
        }
        var expected = tag
        guard EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_GCM_SET_TAG, Int32(tagSize), &expected) == 1 else { throw .library }
        // Final is where GCM compares the tag: anything but 1 means the bytes are not ours.
        let verified = plaintext.withUnsafeMutableBufferPointer { out in
            EVP_DecryptFinal_ex(context, out.baseAddress! + total, &length)
        }
        guard verified == 1 else {
            // Scrub what was decrypted before the tag was known to be bad.
            for index in plaintext.indices { plaintext[index] = 0 }
            throw .authenticationFailed
        }
        total += Int(length)
        return Array(plaintext.prefix(total))
    }
}
