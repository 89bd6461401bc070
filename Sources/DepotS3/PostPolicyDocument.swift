import DepotHashing
import DepotStorage
import Foundation

/// What a browser form upload's policy allows the upload to be, once its conditions are met.
struct PostPolicy {
    var minimumLength: UInt64?
    var maximumLength: UInt64?
    var contentType: String?
    var successStatus = 204
    var redirect: String?
}

/// The policy document of a browser form upload (S3 POST Object): Base64 JSON with an
/// `expiration` and `conditions`. Decoding and checking it against the form's fields depend on
/// nothing but the fields and the time, so this is what the `post-policy` fuzz target drives; the
/// signature and the account's grants are checked around it (S3Service.checkPolicy).
struct PostPolicyDocument {
    let expires: Int64
    let conditions: [Any]

    init(base64 encoded: String) throws {
        guard let json = Base64.decode(encoded),
            let document = try? JSONSerialization.jsonObject(with: Data(json)) as? [String: Any],
            let expiration = document["expiration"] as? String, let conditions = document["conditions"] as? [Any]
        else { throw S3Error.invalidPolicy("The policy is not a valid JSON policy document with expiration and conditions.") }
        guard let expires = parseISO8601(expiration) else {
            throw S3Error.invalidPolicy("Invalid Policy: Invalid 'expiration' value")
        }
        self.expires = expires
        self.conditions = conditions
    }

    /// Checks every condition against the form `fields` (names in lower case) and that every field
    /// is covered by a condition (as S3 requires). Returns the object key and what the policy allows.
    func evaluate(fields: [String: String], bucket: String, filename: String, fileContentType: String?, now: Int64) throws
        -> (key: String, policy: PostPolicy)
    {
        guard now < expires else { throw S3Error.accessDenied("Invalid according to Policy: Policy expired.") }
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
        policy.contentType = values["content-type"]
        policy.redirect = fields["success_action_redirect"] ?? fields["redirect"]
        if let status = fields["success_action_status"].flatMap(Int.init), [200, 201, 204].contains(status) {
            policy.successStatus = status
        }
        return (objectKey, policy)
    }
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
