import Logging
import Testing

@testable import DepotServer

/// The access line rendered straight from the record (the text log's fast path) is byte for byte
/// the line `TextLogHandler` writes for the record's metadata, which is the line of issue 19.
struct AccessLineTests {
    static let stamp = Array("2026-12-06T01:02:03+0000".utf8)

    func record(
        path: String = "/rec/cam1/a.mp4", key: String? = "cam1/a.mp4", accessKey: String? = "camera",
        userAgent: String? = "aws-cli/2", milliseconds: Double = 1.25, status: Int = 200
    ) -> AccessRecord {
        AccessRecord(
            requestId: "00000000000000a1", api: "s3", operation: "GetObject", method: "GET", path: path, status: status,
            errorCode: status >= 400 ? "NoSuchKey" : nil, accessKey: accessKey, account: "cameras", bucket: "rec",
            key: key, bytesIn: 0, bytesOut: 4096, durationMilliseconds: milliseconds, clientAddress: "127.0.0.1",
            userAgent: userAgent)
    }

    /// The fast path's line.
    func rendered(_ record: AccessRecord, level: Logger.Level = .info) -> String {
        var line: [UInt8] = []
        TextLine.render(
            into: &line, stamp: Self.stamp, level: level, label: "depot", source: AccessLog.source, message: "request"
        ) { record.appendTextFields(to: &$0) }
        return String(decoding: line, as: UTF8.self)
    }

    /// The line the text handler writes for `logger.log(level:"request", metadata: record.metadata)`
    /// called in AccessLog.swift (swift-log derives the source from that file).
    func handlerLine(_ record: AccessRecord, level: Logger.Level = .info, provider: Logger.MetadataProvider? = nil) -> String {
        let handler = TextLogHandler(label: "depot", metadataProvider: provider)
        let event = LogEvent(
            level: level, message: "request", metadata: record.metadata, source: nil,
            file: "DepotServer/AccessLog.swift", function: "record(_:mode:)", line: 1)
        let pairs = handler.describedPairs(of: event)
        var line: [UInt8] = []
        TextLine.render(
            into: &line, stamp: Self.stamp, level: level, label: "depot", source: event.source,
            message: event.message.description
        ) { line in
            for (key, value) in pairs { TextLine.appendPair(key, value, to: &line) }
        }
        return String(decoding: line, as: UTF8.self)
    }

    @Test func theLineIsIssue19sFormat() {
        #expect(
            rendered(record(status: 404))
                == "2026-12-06T01:02:03+0000 info depot: access_key=camera account=cameras api=s3 bucket=rec bytes_in=0"
                + " bytes_out=4096 client=127.0.0.1 duration_ms=1.25 error_code=NoSuchKey key=cam1/a.mp4 method=GET"
                + " operation=GetObject path=/rec/cam1/a.mp4 request_id=00000000000000a1 status=404 user_agent=aws-cli/2"
                + " [DepotServer] request\n")
        #expect(
            rendered(record(key: nil, accessKey: nil, userAgent: nil, milliseconds: 0), level: .debug)
                == "2026-12-06T01:02:03+0000 debug depot: account=cameras api=s3 bucket=rec bytes_in=0 bytes_out=4096"
                + " client=127.0.0.1 duration_ms=0.0 method=GET operation=GetObject path=/rec/cam1/a.mp4"
                + " request_id=00000000000000a1 status=200 [DepotServer] request\n")
    }

    @Test func fieldsThatNeedEscapingRenderAsTheHandlerWritesThem() {
        let long = String(repeating: "k", count: 1030)
        let cases: [AccessRecord] = [
            record(path: "/rec/a\nb", key: "a\nb"),
            record(path: "/rec/\u{7F}\u{1B}[31m", key: "\t\r"),
            record(path: "", key: "", accessKey: "", userAgent: ""),
            record(path: "/rec/caméra/☃/𝄞", key: "caméra/☃/𝄞", userAgent: "agent ünïcode \u{85}"),
            record(path: "/" + long, key: long, accessKey: String(repeating: "a", count: 200), userAgent: long),
            record(path: "/" + long + "\n", key: "\u{0}" + long),
            record(key: "key=value [x] y", userAgent: "a b=c"),
        ]
        for record in cases {
            #expect(rendered(record) == handlerLine(record))
        }
        #expect(rendered(cases[0]).contains(" key=a\\u000ab "))
        #expect(rendered(cases[1]).contains(" path=/rec/\\u007f\\u001b[31m "))
        #expect(rendered(cases[2]).contains(" key= method=GET") && rendered(cases[2]).contains(" user_agent= ["))
        #expect(rendered(cases[3]).contains(" key=caméra/☃/𝄞 "))
    }

    @Test func durationsRenderAsTheHandlerWritesThem() {
        var generator = SystemRandomNumberGenerator()
        var values: [Double] = [
            0, 0.0004, 0.0005, 0.001, 0.01, 0.1, 0.999, 1, 9.9995, 10, 123.456, 1e6, 1e9 + 0.001, 1e10 - 0.001,
        ]
        for _ in 0..<2000 { values.append(Double.random(in: 0..<20, using: &generator)) }
        for _ in 0..<2000 { values.append(Double.random(in: 0..<1e10, using: &generator)) }
        for _ in 0..<500 { values.append(Double.random(in: 0..<1e14, using: &generator)) }
        for value in values {
            let record = record(milliseconds: value)
            #expect(rendered(record) == handlerLine(record), "\(value)")
        }
        // Values that are no thousandths fall back to `description`.
        for value in [-0.0, -1.5, 1e20, .infinity, .nan, 0.0001] {
            var line: [UInt8] = []
            TextLine.appendMilliseconds(value, to: &line)
            #expect(String(decoding: line, as: UTF8.self) == value.description)
        }
    }

    @Test func countsRenderAsDescriptionDoes() {
        var generator = SystemRandomNumberGenerator()
        var values = [0, 1, 9, 10, 99, 100, -1, -10, Int.max, Int.min, Int.min + 1]
        for _ in 0..<1000 { values.append(Int.random(in: Int.min...Int.max, using: &generator)) }
        for value in values {
            var line: [UInt8] = []
            TextLine.appendDecimal(value, to: &line)
            #expect(String(decoding: line, as: UTF8.self) == String(value))
        }
    }

    /// The request's id, put on lines by the metadata provider, gives way to the record's own, in
    /// the handler's line as in the fast path (which takes the handler's path for any other field).
    @Test func theRecordsRequestIdWinsOverTheProvidedOne() {
        let provider = Logger.MetadataProvider { ["request_id": "provided"] }
        #expect(rendered(record()) == handlerLine(record(), provider: provider))
        #expect(AccessRecord.alwaysPresentFieldNames.contains("request_id"))
    }

    /// The trace and the JSON log read the same fields, numbers as numbers.
    @Test func fieldsKeepTheirNamesAndKinds() {
        let fields = Dictionary(uniqueKeysWithValues: record(status: 404).fields.map { ($0.0, $0.1) })
        #expect(fields.count == 16)
        #expect(JSONLogHandler.plain(fields["status"]!) as? Int == 404)
        #expect(JSONLogHandler.plain(fields["duration_ms"]!) as? Double == 1.25)
        #expect(JSONLogHandler.plain(fields["key"]!) as? String == "cam1/a.mp4")
        let present = Set(record(key: nil, accessKey: nil, userAgent: nil).fields.map(\.0))
        #expect(AccessRecord.alwaysPresentFieldNames.isSubset(of: present))
    }
}
