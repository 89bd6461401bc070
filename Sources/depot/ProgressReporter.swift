import DepotEngine
import Foundation
import Glibc

/// Progress of long work (fsck, an index rebuild, gc, a replication job) on stderr, the one
/// place its format is decided: what is done (count and bytes, of how much), the rate and the
/// time left.
///
/// On a terminal it is one line redrawn in place (`\r`, at most 5 times a second); otherwise
/// (a log, a pipe, systemd) a plain line every `DEPOT_PROGRESS_INTERVAL` seconds (default 5),
/// so logs get a steady record instead of control characters. Messages (`note`) go on lines of
/// their own, above the progress line.
final class ProgressReporter {
    let task: String
    let onTerminal: Bool
    private let interval: Double
    private let started: Double
    private var lastShown: Double = 0
    private var latest: Sample?
    /// Whether the terminal line holds a progress line that a message must clear first.
    private var lineDrawn = false

    struct Sample {
        var phase: String
        var count: Int
        var unit: String
        var totalCount: Int?
        var bytes: UInt64
        var totalBytes: UInt64?
    }

    init(task: String, onTerminal: Bool = isatty(2) == 1) {
        self.task = task
        self.onTerminal = onTerminal
        let configured = environment("DEPOT_PROGRESS_INTERVAL").flatMap(Double.init)
        interval = onTerminal ? 0.2 : max(0.01, configured ?? 5)
        started = Self.now()
        // A terminal shows the first state at once; a log gets its first line after an interval.
        lastShown = onTerminal ? 0 : started
    }

    /// The work's state now; shown when the last line is older than the interval.
    func update(
        phase: String, count: Int, unit: String, totalCount: Int? = nil, bytes: UInt64 = 0, totalBytes: UInt64? = nil
    ) {
        latest = Sample(
            phase: phase, count: count, unit: unit, totalCount: totalCount, bytes: bytes,
            totalBytes: totalBytes.flatMap { $0 == 0 ? nil : $0 })
        let now = Self.now()
        guard now - lastShown >= interval else { return }
        lastShown = now
        draw()
    }

    /// A message of its own (a torn tail, a skipped segment), kept above the progress line.
    func note(_ text: String) {
        clearLine()
        printError(text)
        if onTerminal, latest != nil { draw() }
    }

    /// The work is over: the last state once more (a plain line, or the terminal line left
    /// complete with a newline), so the final figures are always on record.
    func finish() {
        guard latest != nil else { return }
        draw()
        if onTerminal { write(text: "\n") }
        lineDrawn = false
    }

    private func draw() {
        guard let sample = latest else { return }
        let line = Self.format(task: task, sample, seconds: Self.now() - started)
        if onTerminal {
            // Cut to the terminal's width: a wrapped line would not be redrawn in place.
            write(text: "\r\u{1B}[K" + String(line.prefix(max(20, Self.terminalColumns() - 1))))
            lineDrawn = true
        } else {
            printError(line)
        }
    }

    private func clearLine() {
        guard onTerminal, lineDrawn else { return }
        write(text: "\r\u{1B}[K")
        lineDrawn = false
    }

    private func write(text: String) {
        let bytes = Array(text.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// `fsck: verifying segments: 1204 records, 120.5 MiB of 1.0 GiB (12%), 45.2 MiB/s, ETA 0:19`.
    static func format(task: String, _ sample: Sample, seconds: Double) -> String {
        var parts = ["\(sample.count)" + (sample.totalCount.map { " of \($0)" } ?? "") + " \(sample.unit)"]
        if let total = sample.totalCount, total > 0, sample.totalBytes == nil {
            parts[0] += " (\(min(100, sample.count * 100 / total))%)"
        }
        let elapsed = max(seconds, 0.001)
        if sample.bytes > 0 || sample.totalBytes != nil {
            var bytes = humanBytes(Int(clamping: sample.bytes))
            if let total = sample.totalBytes {
                bytes += " of \(humanBytes(Int(clamping: total))) (\(min(100, Int(Double(sample.bytes) * 100 / Double(total))))%)"
            }
            parts.append(bytes)
            parts.append("\(humanBytes(Int(Double(sample.bytes) / elapsed)))/s")
        } else {
            parts.append(String(format: "%.1f", Double(sample.count) / elapsed) + " \(sample.unit)/s")
        }
        // Time left at the rate so far: by bytes when their total is known, else by count.
        var left: Double?
        if let total = sample.totalBytes, sample.bytes > 0 {
            left = Double(total - min(total, sample.bytes)) * elapsed / Double(sample.bytes)
        } else if let total = sample.totalCount, sample.count > 0 {
            left = Double(max(0, total - sample.count)) * elapsed / Double(sample.count)
        }
        parts.append("ETA " + (left.map(duration) ?? "?"))
        return "\(task): \(sample.phase): " + parts.joined(separator: ", ")
    }

    /// `0:07`, `12:30`, `2:05:00`.
    static func duration(_ seconds: Double) -> String {
        let total = Int(seconds.rounded(.up))
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }

    /// The width of the terminal on stderr (80 when it does not say).
    static func terminalColumns() -> Int {
        var size = winsize()
        guard ioctl(2, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 0 else { return 80 }
        return Int(size.ws_col)
    }

    static func now() -> Double {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
    }
}

extension ProgressReporter {
    /// An engine job's progress (WorkProgress), as the maintenance commands pass it on.
    func update(_ progress: WorkProgress) {
        update(
            phase: progress.phase, count: progress.count, unit: progress.unit, bytes: progress.bytes,
            totalBytes: progress.totalBytes)
    }
}
