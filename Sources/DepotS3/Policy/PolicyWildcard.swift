/// The policy language's wildcards (`*` any run of characters, `?` one character), used for
/// actions, resources and StringLike conditions. Iterative with one backtrack point, so a
/// pattern costs at most length(pattern) × length(text) steps however many stars it has.
enum PolicyWildcard {
    static func matches(_ pattern: String, _ text: String, ignoringCase: Bool = false) -> Bool {
        let p = Array((ignoringCase ? pattern.lowercased() : pattern).unicodeScalars)
        let t = Array((ignoringCase ? text.lowercased() : text).unicodeScalars)
        var pi = 0
        var ti = 0
        var star = -1
        var starText = 0
        while ti < t.count {
            if pi < p.count && (p[pi] == "?" || p[pi] == t[ti]) {
                pi += 1
                ti += 1
            } else if pi < p.count && p[pi] == "*" {
                star = pi
                starText = ti
                pi += 1
            } else if star >= 0 {
                pi = star + 1
                starText += 1
                ti = starText
            } else {
                return false
            }
        }
        while pi < p.count && p[pi] == "*" { pi += 1 }
        return pi == p.count
    }
}

/// A JSON value as a policy document holds it. Numbers keep their text form, because the policy
/// language compares condition values as strings unless an operator says otherwise.
enum PolicyJSON: Decodable, Equatable {
    case string(String)
    case number(String)
    case bool(Bool)
    case null
    case array([PolicyJSON])
    case object([String: PolicyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .number(String(value))
        } else if let value = try? container.decode(Double.self) {
            self = .number(String(value))
        } else if let value = try? container.decode([PolicyJSON].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: PolicyJSON].self))
        }
    }

    /// A scalar as the text conditions compare (`true`, `10`, `"a"`); nil for arrays, objects, null.
    var scalarText: String? {
        switch self {
        case .string(let s), .number(let s): s
        case .bool(let b): b ? "true" : "false"
        default: nil
        }
    }

    /// A string or an array of strings (the policy language accepts both for most fields).
    func strings(field: String) throws -> [String] {
        switch self {
        case .string(let s): return [s]
        case .array(let items):
            guard !items.isEmpty else { throw PolicyProblem("\(field) is an empty list") }
            return try items.map {
                guard case .string(let s) = $0 else { throw PolicyProblem("\(field) must hold strings") }
                return s
            }
        default: throw PolicyProblem("\(field) must be a string or a list of strings")
        }
    }
}

/// Why a policy document is refused: the message of S3's `MalformedPolicy`.
struct PolicyProblem: Error, Equatable, CustomStringConvertible {
    let message: String
    init(_ message: String) { self.message = message }
    var description: String { message }
}
