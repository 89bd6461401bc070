import DepotConfig
import DepotEngine
import DepotHashing
import DepotSigV4
import DepotStorage
import Foundation
import Glibc
import HTTPTypes
import HummingbirdCore
import NIOCore

/// S3 POST Object: a browser form upload authorised by a signed policy document instead of a
/// signed request. The form's fields arrive before the file; the policy is checked then, and the
/// file streams into the chunk store like any PUT.
extension S3Service {
    func postObject(_ r: S3Request, bucket: String, body: RequestBody, requestId: String) async throws -> Response {
        guard let contentType = r.headers[.contentType], var form = FormDataReader(contentType: contentType) else {
            throw S3Error(
                "PreconditionFailed", .preconditionFailed, "Bucket POST must be of the enclosure-type multipart/form-data")
        }
        try requireBucket(bucket)
        // The file is most of the form: a form that cannot fit is refused before it is read.
        if let formLength = r.headers[.contentLength].flatMap(UInt64.init) {
            try engine.admitUpload(declaredBytes: formLength)
        }
        var fields: [(String, String)] = []
        var session: IngestSession?
        var policy: PostPolicy?
        var account: Account?
        var aclPairs: [(String, String)] = []
        // The form's encryption fields are read inside the parser, which cannot wait for a new
        // data key to be committed: the domains are made first (once per process). A form that
        // asks for none must not fail here; one that does fails where its domain is looked up.
        if !engine.configuration.encryption.isEmpty { try? await engine.prepareEncryptionDomains() }
        var size: UInt64 = 0
        var fileDone = false
        var customerKey: CustomerKeyHeaders?
        var classPairs: [(String, String)] = []
        for try await buffer in body {
            try buffer.withUnsafeReadableBytes { bytes in
                try form.feed(bytes) { event in
                    switch event {
                    case .field(let name, let value):
                        fields.append((name, value))
                    case .fileStart(_, let filename, let fileType):
                        let checked = try checkPolicy(
                            fields: fields, bucket: bucket, filename: filename, fileContentType: fileType, request: r)
                        try UnsupportedHeaders.check(formFields: fields)
                        classPairs = try storageClassPairs(fields.first { $0.0.lowercased() == Self.storageClassHeader }?.1)
                        // The form's `acl` field is the x-amz-acl header of a PUT.
                        let formFields = fields
                        aclPairs = try requestedObjectACLPairs(
                            { name in
                                formFields.first { $0.0.lowercased() == (name == "x-amz-acl" ? "acl" : name) }?.1
                            }, owner: checked.account.accessKey, bucket: bucket, operation: "PostObject")
                        policy = checked.policy
                        account = checked.account
                        let field = { (name: String) in formFields.first { $0.0.lowercased() == name }?.1 }
                        // SSE-C fields: the key is used for this upload only (CustomerKeyHeaders.swift).
                        customerKey = try CustomerKeyHeaders.parse(
                            field, secure: settings.urlScheme == "https",
                            allowOverHTTP: engine.configuration.encryption.allowCustomerKeysOverHTTP)
                        if customerKey != nil,
                            let name = UnsupportedHeaders.serverSideEncryption.first(where: { field($0) != nil })
                        {
                            throw S3Error.invalidArgument(
                                "\(name) cannot be combined with SSE-C (x-amz-server-side-encryption-customer-*)")
                        }
                        let encryption = customerKey == nil ? try objectEncryption(field, bucket: bucket) : nil
                        let started = try engine.startIngest(bucket: bucket, key: checked.key)
                        if let customerKey {
                            let (encryption, domain) = CustomerKeyEncryption.newObject(customerKey: customerKey.key)
                            started.encrypt(with: encryption, in: domain)
                        } else if let encryption {
                            started.encrypt(
                                with: encryption, in: try engine.preparedEncryptionDomain(keyId: encryption.keyId))
                        }
                        session = started
                    case .fileData(let data):
                        size += UInt64(data.count)
                        try requireAllowedSize(size)
                        if let max = policy?.maximumLength, size > max {
                            throw S3Error("EntityTooLarge", .badRequest, "Your proposed upload exceeds the maximum allowed size")
                        }
                        try session?.write(data)
                    case .fileEnd:
                        fileDone = true
                    }
                }
            }
        }
        guard fileDone, let session, let policy, let account else {
            throw S3Error("InvalidArgument", .badRequest, "POST requires exactly one file upload per request.")
        }
        if let min = policy.minimumLength, size < min {
            throw S3Error("EntityTooSmall", .badRequest, "Your proposed upload is smaller than the minimum allowed size")
        }
        var metadata = ObjectMetadata(owner: account.accessKey)
        metadata.contentType = policy.contentType ?? "binary/octet-stream"
        for (name, value) in fields {
            let lower = name.lowercased()
            if lower.hasPrefix("x-amz-meta-") {
                metadata.userMetadata.append((String(lower.dropFirst(11)), MetadataEncoding.decodeEncodedWords(value)))
            }
            if storedSystemHeaders.contains(lower) { metadata.systemMetadata.append((lower, value)) }
        }
        metadata.systemMetadata += aclPairs + classPairs
        let record = try await session.commit(metadata: metadata, origin: .s3("Post"))
        let key = session.key
        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
        addVersionHeaders(record, &headers)
        customerKey?.addHeaders(&headers)
        // An absolute URL, as AWS and MinIO answer (clients and browsers follow or show it as is).
        let location = objectURL(r, bucket: bucket, key: key)
        headers[.location] = location
        headers[.init("x-amz-request-id")!] = requestId
        if let redirect = policy.redirect, !redirect.isEmpty {
            let separator = redirect.contains("?") ? "&" : "?"
            headers[.location] =
                redirect + separator
                + "bucket=\(SigV4Encoding.encode(bucket))&key=\(SigV4Encoding.encode(key))&etag=\(SigV4Encoding.encode("\"\(record.etag)\""))"
            return emptyResponse(.seeOther, headers: headers)
        }
        switch policy.successStatus {
        case 200: return emptyResponse(.ok, headers: headers)
        case 201:
            var xml = XMLWriter()
            xml.group("PostResponse") { x in
                x.element("Location", location)
                x.element("Bucket", bucket)
                x.element("Key", key)
                x.element("ETag", "\"\(record.etag)\"")
            }
            var response = xmlResponse(xml, status: .created)
            response.headers[.eTag] = "\"\(record.etag)\""
            response.headers[.location] = location
            return response
        default: return emptyResponse(.noContent, headers: headers)
        }
    }

    /// Checks the policy's signature and returns the account that signed it: Signature Version 4
    /// (`x-amz-algorithm`, `x-amz-credential`, `x-amz-signature`: the day's signing key over the Base64 policy) or
    /// Version 2 (`AWSAccessKeyId`, `signature`: Base64 HMAC-SHA1 of the Base64 policy), as MinIO accepts both.
    func signedPolicyAccount(fields: [String: String], policy encoded: String) throws -> Account {
        if let accessKey = fields["awsaccesskeyid"] {
            guard fields["x-amz-algorithm"] == nil, fields["x-amz-credential"] == nil else {
                throw S3Error(
                    "InvalidArgument", .badRequest,
                    "Only one auth mechanism allowed: AWSAccessKeyId (Signature Version 2) or x-amz-credential.")
            }
            guard let signature = fields["signature"] else {
                throw S3Error("InvalidArgument", .badRequest, "The form must carry a signature field with AWSAccessKeyId.")
            }
            guard let account = accounts.account(accessKey: accessKey), account.enabled else {
                throw S3Error.invalidAccessKeyId()
            }
            guard SigV2.isValidSignature(signature, secretKey: account.secretKey, message: encoded) else {
                throw S3Error.signatureDoesNotMatch()
            }
            return account
        }
        guard fields["x-amz-algorithm"] == "AWS4-HMAC-SHA256", let credential = fields["x-amz-credential"],
            let signature = fields["x-amz-signature"]
        else {
            throw S3Error(
                "InvalidArgument", .badRequest, "The form must carry x-amz-algorithm, x-amz-credential and x-amz-signature.")
        }
        let parts = credential.split(separator: "/").map(String.init)
        guard parts.count == 5, parts[4] == "aws4_request", parts[3] == "s3" else {
            throw S3Error("InvalidArgument", .badRequest, "x-amz-credential is malformed")
        }
        guard parts[2] == settings.region else {
            throw S3Error(
                "AuthorizationQueryParametersError", .badRequest,
                "The region '\(parts[2])' is wrong; expecting '\(settings.region)'",
                details: [("Region", settings.region)])
        }
        guard let account = accounts.account(accessKey: parts[0]), account.enabled else { throw S3Error.invalidAccessKeyId() }
        let key = SigningKey(
            secretKey: account.secretKey, scope: CredentialScope(date: parts[1], region: parts[2], service: parts[3]))
        guard key.isValidSignature(signature.lowercased(), of: encoded) else { throw S3Error.signatureDoesNotMatch() }
        return account
    }

    /// `http://host/bucket/key` (path style) or `http://bucket.domain/key` (virtual-host style), from the Host the
    /// client used.
    func objectURL(_ r: S3Request, bucket: String, key: String) -> String {
        let host = r.authority.isEmpty ? "localhost" : r.authority
        let path = SigV4Encoding.encode(key, keepSlash: true)
        let hostName = host.lowercased().split(separator: ":").first.map(String.init) ?? ""
        if !settings.domain.isEmpty, hostName == bucket.lowercased() + "." + settings.domain.lowercased() {
            return "\(settings.urlScheme)://\(host)/\(path)"
        }
        return "\(settings.urlScheme)://\(host)/\(bucket)/\(path)"
    }

    /// Verifies the policy's signature, then the document's conditions against the form fields
    /// (PostPolicyDocument), then the signing account's grants on the final key.
    func checkPolicy(
        fields list: [(String, String)], bucket: String, filename: String, fileContentType: String?, request: S3Request
    ) throws -> (key: String, policy: PostPolicy, account: Account) {
        var fields: [String: String] = [:]
        for (name, value) in list { fields[name.lowercased()] = value }
        guard let encoded = fields["policy"] else {
            return try anonymousForm(fields: fields, bucket: bucket, filename: filename, request: request)
        }
        let account = try signedPolicyAccount(fields: fields, policy: encoded)
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        let (objectKey, policy) = try PostPolicyDocument(base64: encoded).evaluate(
            fields: fields, bucket: bucket, filename: filename, fileContentType: fileContentType, now: Int64(now.tv_sec))
        try requireFormAccess(
            principal: .account(accessKey: account.accessKey, name: account.name), isAdmin: account.allows(.admin, bucket: "*"),
            allowListAllows: account.allows(.write, bucket: bucket, key: objectKey), bucket: bucket, key: objectKey,
            request: request)
        try engine.checkKeyLength(bucket: bucket, key: objectKey)
        return (objectKey, policy, account)
    }
}

extension S3Error {
    static func invalidPolicy(_ message: String) -> S3Error { S3Error("InvalidPolicyDocument", .badRequest, message) }
}
