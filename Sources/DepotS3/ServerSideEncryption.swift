import DepotEngine
import HTTPTypes

/// SSE-S3 (`x-amz-server-side-encryption: AES256`) and SSE-KMS (`aws:kms`, with an optional
/// `x-amz-server-side-encryption-aws-kms-key-id`) on the requests that create an object: PUT,
/// copy (the destination), CreateMultipartUpload (every part follows the upload) and POST forms.
/// Keys are the configured master keys (`encryption.keys`); the engine keeps one encryption
/// domain per key id (DepotEngine/Encryption). A request that asks for encryption Depot cannot
/// give is refused: an object is never stored in plaintext when encryption was asked for.
enum ServerSideEncryption {
    static let algorithmHeader = "x-amz-server-side-encryption"
    static let keyIdHeader = "x-amz-server-side-encryption-aws-kms-key-id"

    /// The encryption `value` (a header or form field reader) asks for, nil when none.
    static func requested(_ value: (String) -> String?, keys: EncryptionKeys) throws -> ObjectEncryption? {
        guard let algorithm = value(algorithmHeader) else {
            if value(keyIdHeader) != nil {
                throw S3Error.invalidArgument(
                    "x-amz-server-side-encryption-aws-kms-key-id requires x-amz-server-side-encryption: aws:kms")
            }
            return nil
        }
        return try resolve(algorithm: algorithm, keyId: value(keyIdHeader), keys: keys, field: algorithmHeader)
    }

    /// Checks an algorithm and key id (from headers or a bucket default) against the configured keys.
    static func resolve(algorithm: String, keyId: String?, keys: EncryptionKeys, field: String) throws -> ObjectEncryption {
        guard algorithm == ObjectEncryption.sseS3 || algorithm == ObjectEncryption.sseKMS else {
            throw S3Error.invalidArgument("The encryption method specified is not supported: \(field): \(algorithm)")
        }
        if algorithm == ObjectEncryption.sseS3, keyId != nil {
            throw S3Error.invalidArgument("\(keyIdHeader) is only valid with x-amz-server-side-encryption: aws:kms")
        }
        guard !keys.isEmpty, let defaultKeyId = keys.defaultKeyId else {
            throw S3Error.invalidArgument(
                "\(field): \(algorithm) asks for server-side encryption, but this server has no encryption keys configured (encryption.keys)"
            )
        }
        guard let keyId, !keyId.isEmpty else { return ObjectEncryption(algorithm: algorithm, keyId: defaultKeyId) }
        // An ARN (arn:aws:kms:region:account:key/k1) names the key by its last part.
        let name = keyId.split(separator: "/").last.map(String.init) ?? keyId
        guard keys.key(name) != nil else {
            throw S3Error("KMS.NotFoundException", .badRequest, "Invalid keyId \(keyId)")
        }
        return ObjectEncryption(algorithm: algorithm, keyId: name)
    }

    /// The headers every response about an encrypted object carries.
    static func addHeaders(_ record: ObjectRecord, _ headers: inout HTTPFields) {
        addHeaders(record.encryption, &headers)
    }

    static func addHeaders(_ encryption: ObjectEncryption?, _ headers: inout HTTPFields) {
        // SSE-C objects answer with the customer-key headers of the request (CustomerKeyHeaders).
        guard let encryption, !CustomerKeyEncryption.isCustomerKey(encryption) else { return }
        headers[HTTPField.Name(algorithmHeader)!] = encryption.algorithm
        if encryption.algorithm == ObjectEncryption.sseKMS {
            headers[HTTPField.Name(keyIdHeader)!] = encryption.keyId
        }
    }
}

extension S3Service {
    /// What a new object in `bucket` is encrypted with: what the request's headers ask for, else
    /// the bucket's default (PutBucketEncryption), else nothing.
    func objectEncryption(_ value: (String) -> String?, bucket: String) throws -> ObjectEncryption? {
        if let requested = try ServerSideEncryption.requested(value, keys: engine.configuration.encryption) {
            return requested
        }
        return try engine.defaultEncryption(ofBucket: bucket)
    }

    /// The same, from a bucket record the request has already read (a PUT's, S3Context.bucketAccess).
    func objectEncryption(_ value: (String) -> String?, bucket: String, record: BucketRecord) throws -> ObjectEncryption? {
        if let requested = try ServerSideEncryption.requested(value, keys: engine.configuration.encryption) {
            return requested
        }
        return try engine.defaultEncryption(of: record, bucket: bucket)
    }
}
