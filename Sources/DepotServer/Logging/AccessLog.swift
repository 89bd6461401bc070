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
        var out: [(String, Logger.Metadata.Value)] = [
            ("request_id", .string(requestId)), ("api", .string(api)), ("operation", .string(operation)),
            ("method", .string(method)), ("path", .string(Self.clean(path))), ("status", .stringConvertible(status)),
            ("bytes_in", .stringConvertible(bytesIn)), ("bytes_out", .stringConvertible(bytesOut)),
            ("duration_ms", .stringConvertible((durationMilliseconds * 1000).rounded() / 1000)),
        ]
        // A failure names its error code and the access key presented: a wrong secret
        // (SignatureDoesNotMatch, WrongSecretKey), an unknown key (InvalidAccessKeyId,
        // UnknownAccessKey) and a denied prefix (AccessDenied) read differently.
        if let errorCode { out.append(("error_code", .string(errorCode))) }
        if let accessKey { out.append(("access_key", .string(Self.clean(accessKey, limit: 128)))) }
        if let account { out.append(("account", .string(Self.clean(account, limit: 128)))) }
        if let bucket { out.append(("bucket", .string(Self.clean(bucket, limit: 128)))) }
        if let key { out.append(("key", .string(Self.clean(key)))) }
        if let clientAddress { out.append(("client", .string(clientAddress))) }
        if let userAgent { out.append(("user_agent", .string(Self.clean(userAgent, limit: 256)))) }
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
struct AccessLog: Sendable {
    let logger: Logger
    let trace: TraceHub

    func record(_ record: AccessRecord, mode: AccessLogMode) {
        trace.publish(record)
        switch mode {
        case .off: return
        // Successes stay visible at debug (DEPOT_LOG_LEVEL=debug) when only errors are kept.
        case .errors: logger.log(level: record.isError ? .info : .debug, "request", metadata: record.metadata)
        case .all: logger.info("request", metadata: record.metadata)
        }
    }
}
