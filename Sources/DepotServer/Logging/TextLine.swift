import Glibc
import Logging
import Synchronization

/// One line of the text log on standard error, in swift-log `StreamLogHandler`'s format:
/// `TIME LEVEL LABEL: key=value ... [SOURCE] MESSAGE`. Both writers of text lines use it: the
/// `TextLogHandler` (any log line) and the access log, which renders its fields straight into
/// the line (`AccessRecord.appendTextFields`).
///
/// Each line is rendered into one reusable buffer and written with one `write` under one lock,
/// so lines never interleave (one `write` to a file or pipe is atomic up to PIPE_BUF, and the
/// lock covers the rest) and no line waits in a buffer: what was logged is on the descriptor when
/// the call returns, as with an unbuffered stderr, so a `kill -9` or a crash loses nothing.
/// Coalescing lines per event-loop tick would save some `write`s (about a fifth of an access
/// line's cost) but would hold lines in memory that a crash then loses.
enum TextLine {
    private struct Output {
        /// The line being written; its storage is kept from line to line.
        var line: [UInt8] = []
        /// The time prefix, formatted again only when the second changes.
        var second = -1
        var stamp: [UInt8] = []
    }

    private static let output = Mutex(Output())
    /// localtime_r, unlike localtime, need not read TZ: tzset once first.
    private static let zoneRead = Atomic<Bool>(false)
    /// A line longer than this (a long key escaped) does not keep its storage for the next one.
    static let keptBufferBytes = 64 * 1024

    /// Renders and writes one line; `fields` appends the ` key=value` pairs, already sorted by key.
    /// It runs under the output lock: it must not log.
    static func write(
        level: Logger.Level, label: String, source: String, message: String, fields: (inout [UInt8]) -> Void
    ) {
        let now = time(nil)
        if zoneRead.exchange(true, ordering: .relaxed) == false { tzset() }
        output.withLock { output in
            if output.second != now {
                output.stamp = Array(timestamp(now).utf8)
                output.second = now
            }
            let stamp = output.stamp
            output.line.removeAll(keepingCapacity: true)
            render(
                into: &output.line, stamp: stamp, level: level, label: label, source: source, message: message,
                fields: fields)
            writeAll(output.line)
            if output.line.capacity > keptBufferBytes { output.line = [] }
        }
    }

    /// The line's bytes after the time prefix `stamp`.
    static func render(
        into line: inout [UInt8], stamp: [UInt8], level: Logger.Level, label: String, source: String, message: String,
        fields: (inout [UInt8]) -> Void
    ) {
        line.append(contentsOf: stamp)
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: level.rawValue.utf8)
        if !label.isEmpty {
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: label.utf8)
        }
        line.append(UInt8(ascii: ":"))
        fields(&line)
        line.append(UInt8(ascii: " "))
        line.append(UInt8(ascii: "["))
        line.append(contentsOf: source.utf8)
        line.append(UInt8(ascii: "]"))
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: message.utf8)
        line.append(UInt8(ascii: "\n"))
    }

    /// Appends ` key=value`.
    @inline(__always)
    static func appendPair(_ key: String, _ value: String, to line: inout [UInt8]) {
        line.append(UInt8(ascii: " "))
        line.append(contentsOf: key.utf8)
        line.append(UInt8(ascii: "="))
        line.append(contentsOf: value.utf8)
    }

    /// Appends `value` in decimal, as `String(value)` writes it.
    static func appendDecimal(_ value: Int, to line: inout [UInt8]) {
        if value < 0 { line.append(UInt8(ascii: "-")) }
        var magnitude = value.magnitude
        var digits = 1
        var probe = magnitude
        while probe >= 10 {
            probe /= 10
            digits += 1
        }
        let start = line.count
        line.append(contentsOf: repeatElement(UInt8(ascii: "0"), count: digits))
        var index = start + digits - 1
        repeat {
            line[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
            magnitude /= 10
            index -= 1
        } while magnitude > 0
    }

    /// Appends a count of milliseconds rounded to thousandths (as the access record keeps it)
    /// exactly as `Double.description` writes it ("12.5", "0.001", "3.0"): for such a value the
    /// shortest decimal that reads back as the same double is its three-decimal form with the
    /// trailing zeros dropped. Anything else (negative, huge, not a thousandth) goes through
    /// `description` itself.
    static func appendMilliseconds(_ value: Double, to line: inout [UInt8]) {
        let thousandths = (value * 1000).rounded()
        guard value.sign == .plus, thousandths < 1e13, thousandths / 1000 == value else {
            line.append(contentsOf: value.description.utf8)
            return
        }
        let whole = Int(thousandths)
        appendDecimal(whole / 1000, to: &line)
        line.append(UInt8(ascii: "."))
        var fraction = whole % 1000
        if fraction == 0 {
            line.append(UInt8(ascii: "0"))
            return
        }
        var divisor = 100
        while fraction > 0 {
            line.append(UInt8(ascii: "0") + UInt8(fraction / divisor))
            fraction %= divisor
            divisor /= 10
        }
    }

    private static func writeAll(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var done = 0
            while done < raw.count {
                let n = Glibc.write(2, raw.baseAddress! + done, raw.count - done)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                done += n
            }
        }
    }

    /// Local time to the second, as StreamLogHandler writes it.
    static func timestamp(_ now: time_t) -> String {
        var now = now
        var local = tm()
        guard localtime_r(&now, &local) != nil else { return "<unknown>" }
        var buffer = [CChar](repeating: 0, count: 64)
        strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        return String(cString: buffer)
    }
}
