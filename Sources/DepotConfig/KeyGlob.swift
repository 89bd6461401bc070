/// A key pattern for policies, in the shell's familiar terms so admins need no regex:
/// `*` matches within one path segment (no `/`), `**` matches across segments, `?` matches one
/// character other than `/`, and `[abc]` / `[a-z]` / `[!abc]` match one character of a class.
///
/// Recording keys look like `<camera>/<date>/<time>_<...>.mp4`; `front-*/**/*.mp4` is the kind
/// of rule admins write, so segments matter more than in a flat glob.
public struct KeyGlob: Sendable, Equatable, CustomStringConvertible {
    enum Token: Sendable, Equatable {
        case literal(Character)
        case anyInSegment  // *
        case anyAcross  // **
        case wholeSegments  // **/ : zero or more whole segments, each ending in `/`
        case one  // ?
        case set([ClosedRange<Character>], negated: Bool)
    }

    public let description: String
    let tokens: [Token]

    /// Parses a pattern; a malformed class (an unclosed `[`) is an error so a typo is not a
    /// pattern that silently never matches.
    public init(_ pattern: String) throws {
        description = pattern
        var tokens: [Token] = []
        var chars = Array(pattern)[...]
        while let c = chars.popFirst() {
            switch c {
            case "*":
                if chars.first == "*" {
                    chars.removeFirst()
                    // `**/` also matches zero segments: `a/**/b` matches `a/b`.
                    if chars.first == "/" {
                        chars.removeFirst()
                        tokens.append(.wholeSegments)
                    } else {
                        tokens.append(.anyAcross)
                    }
                } else {
                    tokens.append(.anyInSegment)
                }
            case "?":
                tokens.append(.one)
            case "[":
                var negated = false
                if chars.first == "!" || chars.first == "^" {
                    negated = true
                    chars.removeFirst()
                }
                var ranges: [ClosedRange<Character>] = []
                var closed = false
                var first = true
                while let m = chars.popFirst() {
                    if m == "]" && !first {
                        closed = true
                        break
                    }
                    first = false
                    if chars.first == "-", chars.count >= 2, chars[chars.index(after: chars.startIndex)] != "]" {
                        chars.removeFirst()
                        let upper = chars.removeFirst()
                        guard m <= upper else { throw KeyGlobError(pattern: pattern, reason: "range \(m)-\(upper) is reversed") }
                        ranges.append(m...upper)
                    } else {
                        ranges.append(m...m)
                    }
                }
                guard closed else { throw KeyGlobError(pattern: pattern, reason: "a [ is not closed") }
                tokens.append(.set(ranges, negated: negated))
            case "\\":
                tokens.append(.literal(chars.popFirst() ?? "\\"))
            default:
                tokens.append(.literal(c))
            }
        }
        self.tokens = tokens
    }

    public func matches(_ key: String) -> Bool {
        let text = Array(key)
        // Iterative matcher with memo over (token, position): patterns are short, keys at most
        // 1 KiB, so the table stays small and there is no exponential backtracking.
        var memo = [Int8](repeating: -1, count: (tokens.count + 1) * (text.count + 1))
        func match(_ t: Int, _ p: Int) -> Bool {
            let slot = t * (text.count + 1) + p
            if memo[slot] >= 0 { return memo[slot] == 1 }
            let result: Bool
            if t == tokens.count {
                result = p == text.count
            } else {
                switch tokens[t] {
                case .literal(let c):
                    result = p < text.count && text[p] == c && match(t + 1, p + 1)
                case .one:
                    result = p < text.count && text[p] != "/" && match(t + 1, p + 1)
                case .set(let ranges, let negated):
                    if p < text.count, text[p] != "/" {
                        let inSet = ranges.contains { $0.contains(text[p]) }
                        result = inSet != negated && match(t + 1, p + 1)
                    } else {
                        result = false
                    }
                case .anyInSegment:
                    var q = p
                    var found = match(t + 1, q)
                    while !found && q < text.count && text[q] != "/" {
                        q += 1
                        found = match(t + 1, q)
                    }
                    result = found
                case .anyAcross:
                    var q = p
                    var found = match(t + 1, q)
                    while !found && q < text.count {
                        q += 1
                        found = match(t + 1, q)
                    }
                    result = found
                case .wholeSegments:
                    if match(t + 1, p) {
                        result = true
                    } else {
                        var q = p
                        var found = false
                        while !found && q < text.count {
                            if text[q] == "/" { found = match(t + 1, q + 1) }
                            q += 1
                        }
                        result = found
                    }
                }
            }
            memo[slot] = result ? 1 : 0
            return result
        }
        return match(0, 0)
    }
}

public struct KeyGlobError: Error, CustomStringConvertible, Sendable {
    public let pattern: String
    public let reason: String
    public var description: String { "\"\(pattern)\": \(reason)" }
}
