import DepotEngine
import HTTPTypes
import HummingbirdCore

/// The S3 form of a bucket's default encryption (DepotEngine's BucketDefaultEncryption, kept as
/// the bucket document "encryption"): PutBucketEncryption's XML in, GetBucketEncryption's out.
typealias BucketEncryption = BucketDefaultEncryption

extension BucketDefaultEncryption {
    /// `<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>
    /// <SSEAlgorithm>…</SSEAlgorithm>[<KMSMasterKeyID>…</KMSMasterKeyID>]…`: exactly one rule.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "ServerSideEncryptionConfiguration", root.children("Rule").count == 1,
            let apply = root.child("Rule")?.child("ApplyServerSideEncryptionByDefault"),
            let algorithm = apply.child("SSEAlgorithm")?.text
        else { throw S3Error.malformedXML() }
        let keyId = apply.child("KMSMasterKeyID")?.text
        self.init(algorithm: algorithm, keyId: keyId?.isEmpty == true ? nil : keyId)
    }

    var xml: XMLWriter {
        var xml = XMLWriter()
        xml.group("ServerSideEncryptionConfiguration", namespace: true) { x in
            x.group("Rule") { r in
                r.group("ApplyServerSideEncryptionByDefault") { a in
                    a.element("SSEAlgorithm", algorithm)
                    if let keyId { a.element("KMSMasterKeyID", keyId) }
                }
                r.element("BucketKeyEnabled", "false")
            }
        }
        return xml
    }
}

extension S3Service {
    func getBucketEncryption(_ c: S3Context, bucket: String) throws -> Response {
        guard let record = try engine.bucket(bucket) else { throw S3Error.noSuchBucket(bucket) }
        guard let rule = BucketEncryption.rule(of: record) else {
            throw BucketConfiguration.encryption.notConfigured(bucket: bucket)!
        }
        return xmlResponse(rule.xml)
    }

    /// Sets the default; an algorithm or key the server cannot carry out is refused (a bucket
    /// default that later failed every PUT, or silently stored plaintext, would be worse).
    func putBucketEncryption(_ c: S3Context, bucket: String, body: RequestBody) async throws -> Response {
        try requireBucket(bucket)
        let bytes = try await readSmallBody(c, body, limit: 64 << 10)
        var rule = try BucketEncryption(xml: bytes)
        let resolved = try ServerSideEncryption.resolve(
            algorithm: rule.algorithm, keyId: rule.keyId, keys: engine.configuration.encryption, field: "SSEAlgorithm")
        // Kept as the key id the configuration knows (an ARN is reduced to its last part).
        if rule.keyId != nil { rule.keyId = resolved.keyId }
        try await engine.setBucketDocument(bucket, name: BucketEncryption.documentName, rule.document)
        return emptyResponse(.ok)
    }

    func deleteBucketEncryption(_ c: S3Context, bucket: String) async throws -> Response {
        try requireBucket(bucket)
        try await engine.setBucketDocument(bucket, name: BucketEncryption.documentName, nil)
        return emptyResponse(.noContent)
    }
}
