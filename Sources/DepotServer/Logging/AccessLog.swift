import DepotConfig
import DepotObjectBody
import Foundation
import Logging

/// One finished request, as its access line and `depot trace` show it: what the front door
/// decided (operation, error code, access key, account, bucket, key, from `RequestOutcome`),
/// the bytes that actually crossed the connection, how long it took and who asked.
struct AccessRecord: Sendable {
    var time = Date()
    var requestId: String
    var api: String
    var operation: String
    var method: String
    var path: String
    var status: Int
    var errorCode: String?
    var accessKey: String?
    var account: String?
    var bucket: String?
    var key: String?
    var bytesIn: Int
    var bytesOut: Int
    var durationMilliseconds: Double
    var clientAddress: String?
    var userAgent: String?

    var isError: Bool { status >= 400 }

    /// The client's own words (path, key, access key, user agent) are bounded and have their
    /// control characters escaped, so a key with a newline cannot forge a log line.
    static func clean(_ text: String, limit: Int = 1024) -> String {
        // Almost every field is short and printable: kept as it is, without building a copy
        // scalar by scalar (that copy of six fields was 1.1% of a 4 KiB GET's server CPU). A
        // string of at most `limit` UTF-8 bytes has at most `limit` scalars.
        if text.utf8.count <= limit, text.utf8.allSatisfy({ $0 >= 0x20 && $0 != 0x7F }) { return text }
        var out = ""
        for scalar in text.unicodeScalars.prefix(limit) {
            if scalar.value < 0x20 || scalar.value == 0x7F {
                out += String(format: "\\u%04x", scalar.value)
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The fields under the names the log and the trace use; absent ones are left out.
    /// Numbers stay numbers (the JSON log writes them as such).
    var fields: [(String, Logger.Metadata.Value)] {
        var out: [(String, Logger.Metadata.Value)] = []
        out.reserveCapacity(16)
        forEachField { name, value in
            switch value {
            case .text(let text): out.append((name, .string(text)))
            case .count(let count): out.append((name, .stringConvertible(count)))
            case .milliseconds(let milliseconds): out.append((name, .stringConvertible(milliseconds)))
            }
        }
        return out
    }

    var metadata: Logger.Metadata { Logger.Metadata(uniqueKeysWithValues: fields) }

    /// One line of `GET /admin/v1/trace`: the same fields, plus the time.
    var json: [String: Any] {
        var object: [String: Any] = [
            "time": ISO8601DateFormatter.string(
                from: time, timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds])
        ]
        for (name, value) in fields { object[name] = JSONLogHandler.plain(value) }
        return object
    }
}

/// Writes the access line of each request (`server.accessLog`: all, errors, off) and hands the
/// record to the live trace (`depot trace`), which sees every request whatever the log keeps.
///
/// With the text log format the line is rendered straight from the record into the output's
/// buffer (`AccessRecord.appendTextFields`, the fields already in key order), byte for byte the
/// line `TextLogHandler` writes for `record.metadata`, without that dictionary, its merge and
/// its sort per line (they, the handler and its `write` were 8% of a 4 KiB GET's server CPU; now
/// 3.3%, 1.2 of it the `write`: 173 → 160 µs of server CPU per 4 KiB GET, release, interleaved).
/// The JSON format, or a logger or request metadata the line would have to merge in, takes the
/// logger's path.
struct AccessLog: Sendable {
    let logger: Logger
    let trace: TraceHub
    /// The logger's handler when it writes text lines and adds no field of its own.
    private let textHandler: TextLogHandler?
    /// The access line's `[SOURCE]`, as swift-log names the module of the call.
    static let source = String(#fileID.prefix { $0 != "/" })

    init(logger: Logger, trace: TraceHub) {
        self.logger = logger
        self.trace = trace
        textHandler = (logger.handler as? TextLogHandler).flatMap { handler in
            handler.metadata.keys.allSatisfy(AccessRecord.alwaysPresentFieldNames.contains) ? handler : nil
        }
    }

    func record(_ record: AccessRecord, mode: AccessLogMode) {
        trace.publish(record)
        let level: Logger.Level
        switch mode {
        case .off: return
        // Successes stay visible at debug (DEPOT_LOG_LEVEL=debug) when only errors are kept.
        case .errors: level = record.isError ? .info : .debug
        case .all: level = .info
        }
        if let textHandler {
            guard textHandler.logLevel <= level else { return }
            // The record's own fields win over the request's (`request_id`), as in the handler's
            // merge; a field the record lacks would have to be merged in: the handler does that.
            let provided = textHandler.metadataProvider?.get() ?? [:]
            if provided.keys.allSatisfy(AccessRecord.alwaysPresentFieldNames.contains) {
                TextLine.write(level: level, label: textHandler.label, source: Self.source, message: "request") {
                    record.appendTextFields(to: &$0)
                }
                return
            }
        }
        logger.log(level: level, "request", metadata: record.metadata)
    }
}
