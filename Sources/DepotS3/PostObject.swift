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
        var size: UInt64 = 0
        var fileDone = false
        for try await buffer in body {
            try buffer.withUnsafeReadableBytes { bytes in
                try form.feed(bytes) { event in
                    switch event {
                    case .field(let name, let value):
                        fields.append((name, value))
                    case .fileStart(_, let filename, let fileType):
                        let checked = try checkPolicy(
                            fields: fields, bucket: bucket, filename: filename, fileContentType: fileType)
                        try UnsupportedHeaders.check(formFields: fields)
                        policy = checked.policy
                        account = checked.account
                        session = try engine.startIngest(bucket: bucket, key: checked.key)
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
        let record = try await session.commit(metadata: metadata, origin: .s3("Post"))
        let key = session.key
        var headers = HTTPFields()
        headers[.eTag] = "\"\(record.etag)\""
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

    struct PostPolicy {
        var minimumLength: UInt64?
        var maximumLength: UInt64?
        var contentType: String?
        var successStatus = 204
        var redirect: String?
    }

    /// Verifies the policy's signature and every condition against the form fields, and that
    /// every field is covered by a condition (as S3 requires). Returns the object key.
    func checkPolicy(
        fields list: [(String, String)], bucket: String, filename: String, fileContentType: String?
    ) throws -> (key: String, policy: PostPolicy, account: Account) {
        var fields: [String: String] = [:]
        for (name, value) in list { fields[name.lowercased()] = value }
        guard let encoded = fields["policy"] else {
            throw S3Error.accessDenied("Anonymous form uploads are not allowed: the form needs a signed policy.")
        }
        let account = try signedPolicyAccount(fields: fields, policy: encoded)

        guard let json = Base64.decode(encoded),
            let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            let expiration = document["expiration"] as? String, let conditions = document["conditions"] as? [Any]
        else { throw S3Error.invalidPolicy("The policy is not a valid JSON policy document with expiration and conditions.") }
        guard let expires = parseISO8601(expiration) else {
            throw S3Error.invalidPolicy("Invalid Policy: Invalid 'expiration' value")
        }
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        guard Int64(now.tv_sec) < expires else { throw S3Error.accessDenied("Invalid according to Policy: Policy expired.") }

        var objectKey = fields["key"] ?? ""
        guard !objectKey.isEmpty else {
            throw S3Error("InvalidArgument", .badRequest, "Bucket POST must contain a field named 'key'.")
        }
        objectKey = objectKey.replacingAll("${filename}", with: filename)
        var values = fields
        values["key"] = objectKey
        values["bucket"] = bucket
        if values["content-type"] == nil, let fileContentType { values["content-type"] = fileContentType }
        var covered: Set<String> = ["bucket"]
        var policy = PostPolicy()
        for condition in conditions {
            if let pair = condition as? [String: Any] {
                for (name, expected) in pair {
                    let field = name.lowercased()
                    covered.insert(field)
                    guard values[field] == "\(expected)" else {
                        throw S3Error.accessDenied(
                            "Invalid according to Policy: Policy Condition failed: [\"eq\", \"$\(name)\", \"\(expected)\"]")
                    }
                }
            } else if let list = condition as? [Any], let op = (list.first as? String)?.lowercased() {
                if op == "content-length-range", list.count == 3 {
                    policy.minimumLength = (list[1] as? NSNumber)?.uint64Value
                    policy.maximumLength = (list[2] as? NSNumber)?.uint64Value
                    continue
                }
                guard list.count == 3, let target = list[1] as? String, target.hasPrefix("$"), let operand = list[2] as? String
                else {
                    throw S3Error.invalidPolicy("Invalid Policy: Invalid Simple-Condition")
                }
                let field = String(target.dropFirst()).lowercased()
                covered.insert(field)
                let value = values[field] ?? ""
                let ok = op == "eq" ? value == operand : op == "starts-with" ? value.hasPrefix(operand) : false
                guard ok else {
                    throw S3Error.accessDenied(
                        "Invalid according to Policy: Policy Condition failed: [\"\(op)\", \"\(target)\", \"\(operand)\"]")
                }
            } else {
                throw S3Error.invalidPolicy("Invalid Policy: Invalid Condition")
            }
        }
        let exempt: Set<String> = ["file", "policy", "x-amz-signature", "signature", "awsaccesskeyid"]
        for name in fields.keys where !exempt.contains(name) && !name.hasPrefix("x-ignore-") && !covered.contains(name) {
            throw S3Error.accessDenied("Invalid according to Policy: Extra input fields: \(name)")
        }
        guard account.allows(.write, bucket: bucket, key: objectKey) else { throw S3Error.accessDenied() }
        try engine.checkKeyLength(bucket: bucket, key: objectKey)
        policy.contentType = values["content-type"]
        policy.redirect = fields["success_action_redirect"] ?? fields["redirect"]
        if let status = fields["success_action_status"].flatMap(Int.init), [200, 201, 204].contains(status) {
            policy.successStatus = status
        }
        return (objectKey, policy, account)
    }
}

extension S3Error {
    static func invalidPolicy(_ message: String) -> S3Error { S3Error("InvalidPolicyDocument", .badRequest, message) }
}

/// `2026-11-25T03:00:00.000Z` (fraction optional) to Unix seconds.
func parseISO8601(_ text: String) -> Int64? {
    let digits = text.unicodeScalars.map { $0 }
    guard digits.count >= 20 else { return nil }
    func number(_ from: Int, _ count: Int) -> Int? { Int(String(String.UnicodeScalarView(digits[from..<from + count]))) }
    guard let y = number(0, 4), let mo = number(5, 2), let d = number(8, 2), let h = number(11, 2), let mi = number(14, 2),
        let s = number(17, 2), text.hasSuffix("Z")
    else { return nil }
    return daysFromCivil(y, mo, d) * 86400 + Int64(h * 3600 + mi * 60 + s)
}

extension String {
    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty, contains(target) else { return self }
        return components(separatedBy: target).joined(separator: replacement)
    }
}
