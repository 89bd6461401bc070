import DepotEngine
import DepotHashing
import HTTPTypes

/// SSE-C request headers (`x-amz-server-side-encryption-customer-algorithm`, `-customer-key`,
/// `-customer-key-MD5`, and the `x-amz-copy-source-` forms of a copy's source), checked as S3
/// does. The key is used for this request only (CustomerKeyEncryption in the engine).
struct CustomerKeyHeaders {
    static let prefix = "x-amz-server-side-encryption-customer-"
    static let copySourcePrefix = "x-amz-copy-source-server-side-encryption-customer-"

    let key: [UInt8]
    /// The base64 MD5 of the key, echoed in responses.
    let keyMD5: String

    /// The key the headers under `prefix` carry, nil when none of them is present. Throws
    /// InvalidArgument for an incomplete set, another algorithm, a key that is not 32 bytes or an
    /// MD5 that does not match, and InvalidRequest over plain HTTP unless the server allows it.
    static func parse(
        _ value: (String) -> String?, prefix: String = prefix, secure: Bool, allowOverHTTP: Bool
    ) throws -> CustomerKeyHeaders? {
        let algorithm = value(prefix + "algorithm")
        let keyText = value(prefix + "key")
        let md5Text = value(prefix + "key-md5")
        guard algorithm != nil || keyText != nil || md5Text != nil else { return nil }
        guard secure || allowOverHTTP else {
            throw S3Error.invalidRequest(
                "Requests specifying Server Side Encryption with Customer provided keys must be made over a secure connection.")
        }
        guard let algorithm else {
            throw S3Error.invalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide a valid encryption algorithm (\(prefix)algorithm)."
            )
        }
        guard algorithm == "AES256" else {
            throw S3Error.invalidArgument("The encryption method specified is not supported: \(prefix)algorithm: \(algorithm)")
        }
        guard let keyText, let key = Base64.decode(keyText), key.count == 32 else {
            throw S3Error.invalidArgument(
                "The secret key was invalid for the specified algorithm (\(prefix)key must be the base64 of 32 bytes).")
        }
        guard let md5Text else {
            throw S3Error.invalidArgument(
                "Requests specifying Server Side Encryption with Customer provided keys must provide the client calculated MD5 of the secret key (\(prefix)key-MD5)."
            )
        }
        guard Base64.decode(md5Text) == DigestAlgorithm.md5.hash(key) else {
            throw S3Error.invalidArgument(
                "The calculated MD5 hash of the key did not match the hash that was provided (\(prefix)key-MD5).")
        }
        return CustomerKeyHeaders(key: key, keyMD5: md5Text)
    }

    /// The response headers about an SSE-C object.
    func addHeaders(_ headers: inout HTTPFields) {
        headers[HTTPField.Name(Self.prefix + "algorithm")!] = "AES256"
        headers[HTTPField.Name(Self.prefix + "key-MD5")!] = keyMD5
    }

    /// S3's answer to a read that cannot open an SSE-C object with what it carried.
    static func error(_ refusal: CustomerKeyEncryption.Refusal) -> S3Error {
        switch refusal {
        case .keyRequired:
            S3Error.invalidRequest(
                "The object was stored using a form of Server Side Encryption. The correct parameters must be provided to retrieve the object."
            )
        case .wrongKey:
            S3Error.accessDenied(
                "Access Denied (the SSE-C key is not the key the object was stored with)")
        }
    }
}

extension S3Service {
    /// SSE-C cannot be combined with x-amz-server-side-encryption (SSE-S3/KMS) on one request.
    func refuseMixedEncryption(_ r: S3Request, _ customerKey: CustomerKeyHeaders?) throws {
        if customerKey != nil, let name = UnsupportedHeaders.serverSideEncryption.first(where: { r.header($0) != nil }) {
            throw S3Error.invalidArgument("\(name) cannot be combined with SSE-C (x-amz-server-side-encryption-customer-*)")
        }
    }

    /// The customer key of this request (`prefix` selects the copy source's headers).
    func requestCustomerKey(_ r: S3Request, prefix: String = CustomerKeyHeaders.prefix) throws -> CustomerKeyHeaders? {
        // Nearly every request has none of the three headers: one look at the names (lower case in
        // `canonicalName`, as `prefix` is) instead of three names made, checked as tokens and looked up.
        guard r.headers.contains(where: { $0.name.canonicalName.hasPrefix(prefix) }) else { return nil }
        return try CustomerKeyHeaders.parse(
            { r.header($0) }, prefix: prefix, secure: settings.urlScheme == "https",
            allowOverHTTP: engine.configuration.encryption.allowCustomerKeysOverHTTP)
    }
}
