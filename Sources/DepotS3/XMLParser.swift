/// A minimal XML reader for the few small request bodies S3 accepts (CompleteMultipartUpload,
/// Delete, Tagging, CreateBucketConfiguration). It builds a tree of elements with their text,
/// ignores attributes, namespaces, comments and the declaration, decodes the five predefined
/// entities and numeric references, and rejects anything that is not well formed.
struct XMLElement {
    var name: String
    var text: String = ""
    var children: [XMLElement] = []

    func child(_ name: String) -> XMLElement? { children.first { $0.name == name } }
    func children(_ name: String) -> [XMLElement] { children.filter { $0.name == name } }

    static func parse(_ bytes: [UInt8]) throws -> XMLElement {
        var parser = Parser(bytes: bytes)
        return try parser.document()
    }

    private struct Parser {
        let bytes: [UInt8]
        var i = 0

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func document() throws -> XMLElement {
            skipMisc()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "<") else { throw S3Error.malformedXML() }
            let root = try element(depth: 0)
            skipMisc()
            guard i == bytes.count else { throw S3Error.malformedXML() }
            return root
        }

        /// Skips whitespace, `<?…?>` and `<!--…-->`.
        mutating func skipMisc() {
            while i < bytes.count {
                if isSpace(bytes[i]) {
                    i += 1
                } else if starts("<?") {
                    guard let end = find("?>") else {
                        i = bytes.count
                        return
                    }
                    i = end + 2
                } else if starts("<!--") {
                    guard let end = find("-->") else {
                        i = bytes.count
                        return
                    }
                    i = end + 3
                } else {
                    return
                }
            }
        }

        mutating func element(depth: Int) throws -> XMLElement {
            guard depth < 32 else { throw S3Error.malformedXML() }
            i += 1  // <
            let name = try readName()
            // Attributes are skipped up to the end of the tag.
            var selfClosing = false
            while i < bytes.count && bytes[i] != UInt8(ascii: ">") {
                if bytes[i] == UInt8(ascii: "\"") || bytes[i] == UInt8(ascii: "'") {
                    let quote = bytes[i]
                    i += 1
                    while i < bytes.count && bytes[i] != quote { i += 1 }
                }
                if i < bytes.count && bytes[i] == UInt8(ascii: "/") { selfClosing = true }
                i += 1
            }
            guard i < bytes.count else { throw S3Error.malformedXML() }
            i += 1  // >
            var node = XMLElement(name: localName(name))
            if selfClosing { return node }
            var text: [UInt8] = []
            while true {
                guard i < bytes.count else { throw S3Error.malformedXML() }
                if starts("</") {
                    i += 2
                    let closing = try readName()
                    guard closing == name else { throw S3Error.malformedXML() }
                    while i < bytes.count && isSpace(bytes[i]) { i += 1 }
                    guard i < bytes.count, bytes[i] == UInt8(ascii: ">") else { throw S3Error.malformedXML() }
                    i += 1
                    node.text = try decodeEntities(text)
                    return node
                } else if starts("<!--") {
                    guard let end = find("-->") else { throw S3Error.malformedXML() }
                    i = end + 3
                } else if starts("<![CDATA[") {
                    guard let end = find("]]>") else { throw S3Error.malformedXML() }
                    text += bytes[(i + 9)..<end].map { $0 == UInt8(ascii: "&") ? 0xFF : $0 }
                    i = end + 3
                } else if bytes[i] == UInt8(ascii: "<") {
                    node.children.append(try element(depth: depth + 1))
                } else {
                    text.append(bytes[i])
                    i += 1
                }
            }
        }

        mutating func readName() throws -> String {
            let start = i
            while i < bytes.count, !isSpace(bytes[i]), bytes[i] != UInt8(ascii: ">"), bytes[i] != UInt8(ascii: "/") { i += 1 }
            guard i > start else { throw S3Error.malformedXML() }
            return String(decoding: bytes[start..<i], as: UTF8.self)
        }

        func localName(_ name: String) -> String {
            name.split(separator: ":").last.map(String.init) ?? name
        }

        func starts(_ s: String) -> Bool {
            let p = Array(s.utf8)
            return i + p.count <= bytes.count && Array(bytes[i..<i + p.count]) == p
        }

        func find(_ s: String) -> Int? {
            let p = Array(s.utf8)
            var j = i
            while j + p.count <= bytes.count {
                if bytes[j] == p[0] && Array(bytes[j..<j + p.count]) == p { return j }
                j += 1
            }
            return nil
        }

        func isSpace(_ c: UInt8) -> Bool { c == 32 || c == 9 || c == 10 || c == 13 }

        func decodeEntities(_ raw: [UInt8]) throws -> String {
            guard raw.contains(UInt8(ascii: "&")) || raw.contains(0xFF) else { return String(decoding: raw, as: UTF8.self) }
            var out: [UInt8] = []
            var k = 0
            while k < raw.count {
                let c = raw[k]
                if c == 0xFF {
                    out.append(UInt8(ascii: "&"))  // a literal & from CDATA
                    k += 1
                } else if c == UInt8(ascii: "&") {
                    guard let semi = raw[k...].firstIndex(of: UInt8(ascii: ";")) else { throw S3Error.malformedXML() }
                    let entity = String(decoding: raw[(k + 1)..<semi], as: UTF8.self)
                    switch entity {
                    case "lt": out.append(UInt8(ascii: "<"))
                    case "gt": out.append(UInt8(ascii: ">"))
                    case "amp": out.append(UInt8(ascii: "&"))
                    case "quot": out.append(UInt8(ascii: "\""))
                    case "apos": out.append(UInt8(ascii: "'"))
                    default:
                        let value: UInt32?
                        if entity.hasPrefix("#x") {
                            value = UInt32(entity.dropFirst(2), radix: 16)
                        } else if entity.hasPrefix("#") {
                            value = UInt32(entity.dropFirst())
                        } else {
                            value = nil
                        }
                        guard let v = value, let scalar = Unicode.Scalar(v) else { throw S3Error.malformedXML() }
                        out += Array(String(Character(scalar)).utf8)
                    }
                    k = semi + 1
                } else {
                    out.append(c)
                    k += 1
                }
            }
            return String(decoding: out, as: UTF8.self)
        }
    }
}
