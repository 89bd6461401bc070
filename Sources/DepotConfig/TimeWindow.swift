import Glibc

/// When a tier may receive copies: one or more daily windows such as `22:00-06:00` or
/// `01:00-05:00,12:00-13:00`, in the server's local time (the `TZ` environment variable), because
/// admins think of "at night" in the site's own time. A window that ends before it starts wraps
/// past midnight; `00:00-24:00` is the whole day. Tasks outside every window wait in the queue; copies under way finish.
public struct TimeWindow: Sendable, Equatable, CustomStringConvertible {
    /// Minutes since local midnight, start inclusive, end exclusive.
    public let spans: [(start: Int, end: Int)]
    public let description: String

    public init(_ text: String) throws {
        description = text
        var spans: [(Int, Int)] = []
        for part in text.split(separator: ",") {
            let bounds = part.trimmingSpaces.split(separator: "-")
            guard bounds.count == 2, let start = Self.minutes(bounds[0]), let end = Self.minutes(bounds[1]) else {
                throw TimeWindowError(text: text, reason: "expected HH:MM-HH:MM, got \"\(part.trimmingSpaces)\"")
            }
            guard start != end, start < 1440 else {
                throw TimeWindowError(text: text, reason: "\(part.trimmingSpaces) is not a window of time")
            }
            spans.append((start, end))
        }
        guard !spans.isEmpty else { throw TimeWindowError(text: text, reason: "no window given") }
        self.spans = spans
    }

    public static func == (lhs: TimeWindow, rhs: TimeWindow) -> Bool { lhs.description == rhs.description }

    /// Whether `minute` (since local midnight) falls in a window.
    public func contains(minuteOfDay minute: Int) -> Bool {
        spans.contains { span in
            span.start < span.end ? (span.start..<span.end).contains(minute) : (minute >= span.start || minute < span.end)
        }
    }

    /// Whether the local time at `epochMilliseconds` falls in a window.
    public func isOpen(at epochMilliseconds: Int64) -> Bool {
        var seconds = time_t(epochMilliseconds / 1000)
        var parts = tm()
        localtime_r(&seconds, &parts)
        return contains(minuteOfDay: Int(parts.tm_hour) * 60 + Int(parts.tm_min))
    }

    static func minutes(_ text: Substring) -> Int? {
        let pieces = text.trimmingSpaces.split(separator: ":")
        guard pieces.count == 2, let h = Int(pieces[0]), let m = Int(pieces[1]), (0...24).contains(h), (0..<60).contains(m),
            h < 24 || m == 0
        else { return nil }
        return h * 60 + m
    }
}

public struct TimeWindowError: Error, CustomStringConvertible, Sendable {
    public let text: String
    public let reason: String
    public var description: String { reason }
}

extension Substring {
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while s.first == " " { s.removeFirst() }
        while s.last == " " { s.removeLast() }
        return s
    }
}
