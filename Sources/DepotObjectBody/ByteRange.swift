/// A `Range` request header for an object of a known size, read the same way by every front
/// door (S3 GET and HEAD, Vault blob): RFC 9110 §14.1.2 with S3's choices.
///
/// - Not a `bytes=` range, several ranges (S3 serves none of them), or bad syntax (`bytes=5-3`,
///   `bytes=abc-`, `bytes=+1-`): ignored, the whole object is sent (200).
/// - `bytes=first-last` and `bytes=first-`: `last` is clamped to the object's last byte.
/// - `bytes=-n`: the last `n` bytes (all of them when `n` is larger than the object).
/// - Well-formed but nothing to send (`first` at or past the end, `-0`, any range of an empty
///   object): unsatisfiable, 416.
public enum ByteRangeRequest: Equatable, Sendable {
    case whole
    case partial(Range<UInt64>)
    case unsatisfiable

    public init(header: String?, size: UInt64) {
        guard let header else {
            self = .whole
            return
        }
        let text = header.utf8.drop { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }
        guard text.starts(with: "bytes=".utf8) else {
            self = .whole
            return
        }
        let spec = Substring(text.dropFirst(6))
        guard !spec.contains(","), let dash = spec.firstIndex(of: "-") else {
            self = .whole
            return
        }
        let firstText = Self.trimmed(spec[..<dash])
        let lastText = Self.trimmed(spec[spec.index(after: dash)...])
        if firstText.isEmpty {
            guard let suffix = Self.position(lastText) else {
                self = .whole
                return
            }
            self = suffix == 0 || size == 0 ? .unsatisfiable : .partial((size - min(suffix, size))..<size)
            return
        }
        guard let first = Self.position(firstText) else {
            self = .whole
            return
        }
        var last = UInt64.max
        if !lastText.isEmpty {
            guard let given = Self.position(lastText), given >= first else {
                self = .whole
                return
            }
            last = given
        }
        guard first < size else {
            self = .unsatisfiable
            return
        }
        self = .partial(first..<(min(last, size - 1) + 1))
    }

    /// `bytes first-last/size`, the `Content-Range` of a 206; `bytes */size` for an empty range,
    /// which names no byte (and whose last position would be below zero).
    public static func contentRange(_ range: Range<UInt64>, size: UInt64) -> String {
        range.isEmpty ? "bytes */\(size)" : "bytes \(range.lowerBound)-\(range.upperBound - 1)/\(size)"
    }

    /// A byte position: ASCII digits only (no sign, no spaces inside); one too large for 64 bits
    /// is still a position, past any object's end.
    private static func position(_ text: Substring) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) else {
            return nil
        }
        return UInt64(text) ?? .max
    }

    private static func trimmed(_ text: Substring) -> Substring {
        var text = text
        while let c = text.first, c == " " || c == "\t" { text.removeFirst() }
        while let c = text.last, c == " " || c == "\t" { text.removeLast() }
        return text
    }
}
