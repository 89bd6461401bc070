import DepotEngine
import Foundation
import Glibc
import Logging
import Synchronization

/// One JSON object per line on standard error, for log collectors (`server.logFormat: json`):
/// time, level, label, message, source, and the metadata, which includes the request id of the
/// request the line was written for.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    public var logLevel: Logger.Level = .info
    let label: String
    private static let output = Mutex(())

    public init(label: String, metadataProvider: Logger.MetadataProvider?) {
        self.label = label
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var fields: [String: Any] = [
            "time": ISO8601DateFormatter.string(
                from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue, "label": label, "message": "\(event.message)", "source": event.source,
        ]
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { _, new in new } }
        if let extra = event.metadata { merged.merge(extra) { _, new in new } }
        for (key, value) in merged { fields[key] = Self.plain(value) }
        guard var line = try? JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(0x0A)
        // One write per line, under a lock, so lines from different threads never interleave.
        Self.output.withLock { _ in
            _ = line.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
        }
    }

    static func plain(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): return text
        // Counts, sizes, durations and statuses stay numbers for the log collector.
        case .stringConvertible(let value):
            switch value {
            case let number as Int: return number
            case let number as Int64: return number
            case let number as UInt64: return number
            case let number as UInt32: return number
            case let number as Double: return number.isFinite ? number : "\(number)"
            case let flag as Bool: return flag
            default: return "\(value)"
            }
        case .array(let values): return values.map(plain)
        case .dictionary(let values): return values.mapValues(plain)
        }
    }
}

/// Puts the current request's id on every log line (see `RequestContext`).
public let requestMetadataProvider = Logger.MetadataProvider {
    RequestContext.id.map { ["request_id": .string($0)] } ?? [:]
}
