/// A streaming `multipart/form-data` reader for browser form uploads (S3 POST Object). Fields
/// before the file are collected (bounded); the file part's bytes are handed on as they arrive,
/// with a tail held back just long enough to recognise the closing boundary.
struct FormDataReader {
    enum Event {
        case field(name: String, value: String)
        case fileStart(name: String, filename: String, contentType: String?)
        case fileData(UnsafeRawBufferPointer)
        case fileEnd
    }

    private enum State {
        case preamble
        /// Just after a delimiter: CRLF (another part follows) or `--` (the end). Decided only once
        /// both bytes are there, so where the network cut the body never changes how it reads.
        case delimiterEnd
        case headers
        case fieldValue(name: String)
        case file
        case done
    }

    private let delimiter: [UInt8]  // "\r\n--boundary"
    private var state = State.preamble
    private var buffer: [UInt8] = []
    private var fieldBytes = 0
    static let maxFieldBytes = 64 << 10

    init?(contentType: String) {
        guard contentType.lowercased().hasPrefix("multipart/form-data"),
            let range = contentType.range(of: "boundary=")
        else { return nil }
        var boundary = String(contentType[range.upperBound...])
        if let semicolon = boundary.firstIndex(of: ";") { boundary = String(boundary[..<semicolon]) }
        boundary = boundary.trimmedSpaces()
        if boundary.hasPrefix("\""), boundary.hasSuffix("\""), boundary.count >= 2 {
            boundary = String(boundary.dropFirst().dropLast())
        }
        guard !boundary.isEmpty, boundary.utf8.count <= 200 else { return nil }
        delimiter = Array("\r\n--\(boundary)".utf8)
    }

    var isDone: Bool {
        if case .done = state { return true }
        return false
    }

    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ handle: (Event) throws -> Void) throws {
        buffer.append(contentsOf: bytes)
        try process(handle)
    }

    private mutating func process(_ handle: (Event) throws -> Void) throws {
        while true {
            switch state {
            case .preamble:
                // The body starts with "--boundary"; treat it as if preceded by CRLF.
                let first = Array(delimiter.dropFirst(2))
                guard let at = find(first, in: buffer) else {
                    if buffer.count > Self.maxFieldBytes { throw S3Error.malformedPOST("no opening boundary") }
                    return
                }
                buffer.removeSubrange(0..<(at + first.count))
                state = .headers
            case .delimiterEnd:
                guard buffer.count >= 2 else { return }
                if buffer[0] == 13 && buffer[1] == 10 { buffer.removeFirst(2) }
                state = .headers
            case .headers:
                if buffer.count >= 2 && buffer[0] == 45 && buffer[1] == 45 {  // "--": closing boundary
                    state = .done
                    buffer.removeAll()
                    return
                }
                guard let end = find(Array("\r\n\r\n".utf8), in: buffer) else {
                    if buffer.count > 16 << 10 { throw S3Error.malformedPOST("part headers too long") }
                    return
                }
                let text = String(decoding: buffer[0..<end], as: UTF8.self)
                buffer.removeSubrange(0..<(end + 4))
                var name: String?
                var filename: String?
                var type: String?
                for line in text.split(separator: "\r\n") {
                    let lower = line.lowercased()
                    if lower.hasPrefix("content-disposition:") {
                        name = Self.parameter("name", in: String(line))
                        filename = Self.parameter("filename", in: String(line))
                    } else if lower.hasPrefix("content-type:") {
                        type = String(line.dropFirst("content-type:".count)).trimmedSpaces()
                    }
                }
                guard let name else { throw S3Error.malformedPOST("a part has no name") }
                if name.lowercased() == "file" {
                    state = .file
                    try handle(.fileStart(name: name, filename: filename ?? "", contentType: type))
                } else {
                    state = .fieldValue(name: name)
                }
            case .fieldValue(let name):
                guard let at = find(delimiter, in: buffer) else {
                    if buffer.count > Self.maxFieldBytes { throw S3Error.malformedPOST("form field \(name) too long") }
                    return
                }
                fieldBytes += at
                guard fieldBytes <= Self.maxFieldBytes else { throw S3Error.malformedPOST("form fields too long") }
                try handle(.field(name: name, value: String(decoding: buffer[0..<at], as: UTF8.self)))
                buffer.removeSubrange(0..<(at + delimiter.count))
                state = .delimiterEnd
            case .file:
                if let at = find(delimiter, in: buffer) {
                    try buffer.withUnsafeBytes { try handle(.fileData(UnsafeRawBufferPointer(rebasing: $0[0..<at]))) }
                    try handle(.fileEnd)
                    buffer.removeSubrange(0..<(at + delimiter.count))
                    state = .delimiterEnd
                } else {
                    // Hand on all but a tail that could be the start of the delimiter.
                    let keep = min(buffer.count, delimiter.count - 1)
                    let emit = buffer.count - keep
                    if emit > 0 {
                        try buffer.withUnsafeBytes { try handle(.fileData(UnsafeRawBufferPointer(rebasing: $0[0..<emit]))) }
                        buffer.removeSubrange(0..<emit)
                    }
                    return
                }
            case .done:
                return
            }
        }
    }

    private func find(_ needle: [UInt8], in haystack: [UInt8]) -> Int? {
        guard needle.count <= haystack.count else { return nil }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == needle[0] {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return i }
            }
            i += 1
        }
        return nil
    }

    static func parameter(_ name: String, in header: String) -> String? {
        for part in header.split(separator: ";").dropFirst() {
            let trimmed = part.trimmedSpaces()
            guard let eq = trimmed.firstIndex(of: "=") else { continue }
            if trimmed[..<eq].lowercased() == name {
                var value = String(trimmed[trimmed.index(after: eq)...])
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                return value
            }
        }
        return nil
    }
}

extension S3Error {
    static func malformedPOST(_ detail: String) -> S3Error {
        S3Error(
            "MalformedPOSTRequest", .badRequest, "The body of your POST request is not well-formed multipart/form-data: \(detail)"
        )
    }
}
