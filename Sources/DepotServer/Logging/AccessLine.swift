/// The access record's fields, in one place for the trace, the JSON log and the text line.
extension AccessRecord {
    enum FieldValue {
        case text(String)
        case count(Int)
        /// Rounded to thousandths.
        case milliseconds(Double)
    }

    /// Fields every record has, whatever the request's outcome.
    static let alwaysPresentFieldNames: Set<String> = [
        "api", "bytes_in", "bytes_out", "duration_ms", "method", "operation", "path", "request_id", "status",
    ]

    /// Calls `body` with each field the record has, in the order of their names (the text line
    /// sorts its fields by name; this order saves that sort). The client's own words are cleaned
    /// here (`clean`).
    func forEachField(_ body: (String, FieldValue) -> Void) {
        // A failure names the access key presented: a wrong secret (SignatureDoesNotMatch,
        // WrongSecretKey), an unknown key (InvalidAccessKeyId, UnknownAccessKey) and a denied
        // prefix (AccessDenied) read differently.
        if let accessKey { body("access_key", .text(Self.clean(accessKey, limit: 128))) }
        if let account { body("account", .text(Self.clean(account, limit: 128))) }
        body("api", .text(api))
        if let bucket { body("bucket", .text(Self.clean(bucket, limit: 128))) }
        body("bytes_in", .count(bytesIn))
        body("bytes_out", .count(bytesOut))
        if let clientAddress { body("client", .text(clientAddress)) }
        body("duration_ms", .milliseconds((durationMilliseconds * 1000).rounded() / 1000))
        if let errorCode { body("error_code", .text(errorCode)) }
        if let key { body("key", .text(Self.clean(key))) }
        body("method", .text(method))
        body("operation", .text(operation))
        body("path", .text(Self.clean(path)))
        body("request_id", .text(requestId))
        body("status", .count(status))
        if let userAgent { body("user_agent", .text(Self.clean(userAgent, limit: 256))) }
    }

    /// Appends the text line's ` key=value` pairs: byte for byte what `TextLogHandler` writes
    /// for `metadata` (strings as they are, numbers as `description` writes them).
    func appendTextFields(to line: inout [UInt8]) {
        forEachField { name, value in
            line.append(UInt8(ascii: " "))
            line.append(contentsOf: name.utf8)
            line.append(UInt8(ascii: "="))
            switch value {
            case .text(let text): line.append(contentsOf: text.utf8)
            case .count(let count): TextLine.appendDecimal(count, to: &line)
            case .milliseconds(let milliseconds): TextLine.appendMilliseconds(milliseconds, to: &line)
            }
        }
    }
}
