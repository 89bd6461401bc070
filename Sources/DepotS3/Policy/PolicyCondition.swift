import DepotConfig
import Glibc

/// One condition of a statement: an operator, a key, and the values it accepts (any of them).
/// Every condition of a statement must hold; a key the request does not carry makes a positive
/// operator false and a negated one (StringNotEquals, StringNotLike, NotIpAddress…) true, as AWS.
struct PolicyCondition: Sendable, Equatable {
    enum Operator: String, Sendable, CaseIterable {
        case stringEquals = "StringEquals"
        case stringNotEquals = "StringNotEquals"
        case stringEqualsIgnoreCase = "StringEqualsIgnoreCase"
        case stringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase"
        case stringLike = "StringLike"
        case stringNotLike = "StringNotLike"
        case numericEquals = "NumericEquals"
        case numericNotEquals = "NumericNotEquals"
        case numericLessThan = "NumericLessThan"
        case numericLessThanEquals = "NumericLessThanEquals"
        case numericGreaterThan = "NumericGreaterThan"
        case numericGreaterThanEquals = "NumericGreaterThanEquals"
        case dateEquals = "DateEquals"
        case dateNotEquals = "DateNotEquals"
        case dateLessThan = "DateLessThan"
        case dateLessThanEquals = "DateLessThanEquals"
        case dateGreaterThan = "DateGreaterThan"
        case dateGreaterThanEquals = "DateGreaterThanEquals"
        case bool = "Bool"
        case ipAddress = "IpAddress"
        case notIpAddress = "NotIpAddress"
        case null = "Null"

        var negated: Bool {
            switch self {
            case .stringNotEquals, .stringNotEqualsIgnoreCase, .stringNotLike, .numericNotEquals, .dateNotEquals,
                .notIpAddress:
                true
            default: false
            }
        }
    }

    /// The condition keys Depot supplies (lower-cased: keys compare without case, as AWS's do).
    static let keys: Set<String> = [
        "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:x-amz-acl", "s3:versionid", "aws:sourceip", "aws:currenttime",
        "aws:epochtime", "aws:securetransport", "aws:referer", "aws:useragent",
    ]

    var op: Operator
    var key: String
    var values: [String]

    static func parse(_ json: PolicyJSON, label: String) throws -> [PolicyCondition] {
        guard case .object(let operators) = json else { throw PolicyProblem("\(label): Condition must be an object") }
        var out: [PolicyCondition] = []
        for name in operators.keys.sorted() {
            guard let op = Operator(rawValue: name) else {
                throw PolicyProblem("\(label): unknown condition operator '\(name)'")
            }
            guard case .object(let byKey) = operators[name]! else {
                throw PolicyProblem("\(label): condition \(name) must map keys to values")
            }
            for keyName in byKey.keys.sorted() {
                let key = keyName.lowercased()
                guard keys.contains(key) else {
                    throw PolicyProblem("\(label): unknown condition key '\(keyName)' in \(name)")
                }
                let raw: [PolicyJSON]
                switch byKey[keyName]! {
                case .array(let items): raw = items
                case let scalar: raw = [scalar]
                }
                let values = try raw.map {
                    guard let text = $0.scalarText else {
                        throw PolicyProblem("\(label): \(name) \(keyName) values must be strings, numbers or booleans")
                    }
                    return text
                }
                guard !values.isEmpty else { throw PolicyProblem("\(label): \(name) \(keyName) has no value") }
                let condition = PolicyCondition(op: op, key: key, values: values)
                try condition.checkValues(label: label, keyName: keyName)
                out.append(condition)
            }
        }
        return out
    }

    /// Each value must be what the operator compares: a number, a date, a boolean, an IP range.
    private func checkValues(label: String, keyName: String) throws {
        for value in values {
            let valid: Bool
            switch op {
            case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
                .numericGreaterThanEquals:
                valid = Double(value) != nil
            case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
                valid = PolicyDate.seconds(value) != nil
            case .bool, .null: valid = value == "true" || value == "false"
            case .ipAddress, .notIpAddress: valid = IPRange(value) != nil
            default: valid = true
            }
            guard valid else {
                throw PolicyProblem("\(label): invalid value '\(value)' for \(op.rawValue) \(keyName)")
            }
        }
    }

    /// Whether the condition holds for a request carrying `value` for the key (nil: not carried).
    func holds(for value: String?) -> Bool {
        if op == .null { return (value == nil) == (values.first == "true") }
        guard let value else { return op.negated }
        switch op {
        case .stringEquals: return values.contains(value)
        case .stringNotEquals: return !values.contains(value)
        case .stringEqualsIgnoreCase: return values.contains { $0.lowercased() == value.lowercased() }
        case .stringNotEqualsIgnoreCase: return !values.contains { $0.lowercased() == value.lowercased() }
        case .stringLike: return values.contains { PolicyWildcard.matches($0, value) }
        case .stringNotLike: return !values.contains { PolicyWildcard.matches($0, value) }
        case .numericEquals, .numericNotEquals, .numericLessThan, .numericLessThanEquals, .numericGreaterThan,
            .numericGreaterThanEquals:
            guard let number = Double(value) else { return op.negated }
            return compare(number, values.compactMap { Double($0) })
        case .dateEquals, .dateNotEquals, .dateLessThan, .dateLessThanEquals, .dateGreaterThan, .dateGreaterThanEquals:
            guard let seconds = PolicyDate.seconds(value) else { return op.negated }
            return compare(seconds, values.compactMap { PolicyDate.seconds($0) })
        case .bool: return values.contains { $0 == value.lowercased() }
        case .ipAddress, .notIpAddress:
            let inside = values.contains { IPRange($0)?.contains(value) == true }
            return op == .ipAddress ? inside : !inside
        case .null: return false
        }
    }

    private func compare(_ x: Double, _ limits: [Double]) -> Bool {
        switch op {
        case .numericEquals, .dateEquals: limits.contains { x == $0 }
        case .numericNotEquals, .dateNotEquals: !limits.contains { x == $0 }
        case .numericLessThan, .dateLessThan: limits.contains { x < $0 }
        case .numericLessThanEquals, .dateLessThanEquals: limits.contains { x <= $0 }
        case .numericGreaterThan, .dateGreaterThan: limits.contains { x > $0 }
        case .numericGreaterThanEquals, .dateGreaterThanEquals: limits.contains { x >= $0 }
        default: false
        }
    }
}

/// Dates as the policy language writes them: ISO 8601 (`2026-01-01T00:00:00Z`, with optional
/// fractional seconds or a date alone) or seconds since the epoch.
enum PolicyDate {
    static func seconds(_ text: String) -> Double? {
        if let epoch = Double(text), !text.contains("-") { return epoch }
        let scalars = Array(text.utf8)
        func number(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= scalars.count else { return nil }
            var n = 0
            for c in scalars[from..<(from + count)] {
                guard c >= 48 && c <= 57 else { return nil }
                n = n * 10 + Int(c - 48)
            }
            return n
        }
        guard let year = number(0, 4), scalars.count >= 10, scalars[4] == 45, let month = number(5, 2), scalars[7] == 45,
            let day = number(8, 2), (1...12).contains(month), (1...31).contains(day)
        else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var fraction = 0.0
        if scalars.count > 10 {
            guard scalars[10] == 84 || scalars[10] == 116, let h = number(11, 2), scalars.count >= 16, scalars[13] == 58,
                let m = number(14, 2), h < 24, m < 60
            else { return nil }
            hour = h
            minute = m
            var i = 16
            if i < scalars.count, scalars[i] == 58 {
                guard let s = number(17, 2), s < 61 else { return nil }
                second = s
                i = 19
                if i < scalars.count, scalars[i] == 46 {
                    var digits = 0
                    var scale = 0.1
                    i += 1
                    while i < scalars.count, scalars[i] >= 48 && scalars[i] <= 57 {
                        fraction += Double(scalars[i] - 48) * scale
                        scale /= 10
                        digits += 1
                        i += 1
                    }
                    guard digits > 0 else { return nil }
                }
            }
            guard i == scalars.count - 1, scalars[i] == 90 || scalars[i] == 122 else { return nil }
        }
        var parts = tm()
        parts.tm_year = Int32(year - 1900)
        parts.tm_mon = Int32(month - 1)
        parts.tm_mday = Int32(day)
        parts.tm_hour = Int32(hour)
        parts.tm_min = Int32(minute)
        parts.tm_sec = Int32(second)
        return Double(timegm(&parts)) + fraction
    }

    /// The ISO 8601 form of a time, as `aws:CurrentTime` carries it.
    static func iso8601(_ seconds: Int64) -> String {
        var t = time_t(seconds)
        var parts = tm()
        gmtime_r(&t, &parts)
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return
            "\(parts.tm_year + 1900)-\(two(parts.tm_mon + 1))-\(two(parts.tm_mday))T\(two(parts.tm_hour)):\(two(parts.tm_min)):\(two(parts.tm_sec))Z"
    }
}
