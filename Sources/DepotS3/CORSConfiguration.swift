/// A bucket's CORS configuration (PutBucketCors): which origins may use which methods and send
/// which headers, what their pages may read of the answer and how long a browser may keep a
/// preflight's answer. Parsed and validated here as S3 validates it; stored as the canonical XML
/// that GetBucketCors returns (the bucket document "cors"), so what is read back is what is used.
struct CORSConfiguration: Equatable, Sendable {
    struct Rule: Equatable, Sendable {
        var id: String?
        var allowedOrigins: [String]
        var allowedMethods: [String]
        var allowedHeaders: [String] = []
        var exposeHeaders: [String] = []
        var maxAgeSeconds: Int?
    }

    var rules: [Rule]

    /// The bucket document that holds it.
    static let documentName = "cors"
    /// S3's limit on rules per configuration.
    static let maximumRules = 100
    /// S3's limit on a configuration document (64 KB).
    static let maximumBytes = 64 << 10
    /// The only methods a rule may name, as in S3 (case-sensitive).
    static let methods: Set<String> = ["GET", "PUT", "POST", "DELETE", "HEAD"]

    /// Parses and validates a PutBucketCors body; the first problem is thrown as S3's error.
    init(xml bytes: [UInt8]) throws {
        let root = try XMLElement.parse(bytes)
        guard root.name == "CORSConfiguration", !root.children.isEmpty, root.children.allSatisfy({ $0.name == "CORSRule" })
        else { throw S3Error.malformedXML() }
        // The count first, then each rule in order: the first problem is the one named.
        guard root.children.count <= Self.maximumRules else {
            throw S3Error.invalidRequest(
                "The number of CORS rules should not exceed allowed limit of \(Self.maximumRules) rules.")
        }
        rules = try root.children.map(Self.rule)
    }

    private static func rule(_ element: XMLElement) throws -> Rule {
        var rule = Rule(id: nil, allowedOrigins: [], allowedMethods: [])
        for child in element.children {
            // Values are elements with text only: a nested element is not in S3's schema.
            guard child.children.isEmpty else { throw S3Error.malformedXML() }
            // Pretty-printed documents put values on lines of their own.
            let text = String(child.text.drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
            switch child.name {
            case "ID":
                guard rule.id == nil else { throw S3Error.malformedXML() }
                guard text.count <= 255 else {
                    throw S3Error.invalidArgument("The ID of a CORS rule may be at most 255 characters long.")
                }
                rule.id = text.isEmpty ? nil : text
            case "AllowedOrigin":
                guard !text.isEmpty else { throw S3Error.malformedXML() }
                guard text.count(where: { $0 == "*" }) <= 1 else {
                    throw S3Error.invalidRequest("AllowedOrigin \"\(text)\" can not have more than one wildcard.")
                }
                rule.allowedOrigins.append(text)
            case "AllowedMethod":
                guard Self.methods.contains(text) else {
                    throw S3Error.invalidRequest(
                        "Found unsupported HTTP method in CORS config. Unsupported method is \(text)")
                }
                if !rule.allowedMethods.contains(text) { rule.allowedMethods.append(text) }
            case "AllowedHeader":
                guard !text.isEmpty else { throw S3Error.malformedXML() }
                guard text.count(where: { $0 == "*" }) <= 1 else {
                    throw S3Error.invalidRequest("AllowedHeader \"\(text)\" can not have more than one wildcard.")
                }
                rule.allowedHeaders.append(text)
            case "ExposeHeader":
                // Sent back verbatim in Access-Control-Expose-Headers, so it must be a header name.
                guard !text.contains("*") else {
                    throw S3Error.invalidRequest(
                        "ExposeHeader \(text) contains a wildcard. Wildcards are currently not supported for ExposeHeader.")
                }
                guard !text.isEmpty, text.utf8.allSatisfy(Self.isTokenCharacter) else {
                    throw S3Error.invalidRequest("ExposeHeader \(text) contains invalid character.")
                }
                rule.exposeHeaders.append(text)
            case "MaxAgeSeconds":
                guard rule.maxAgeSeconds == nil, !text.isEmpty, text.utf8.count <= 10,
                    text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
                    let seconds = Int(text), seconds <= Int(Int32.max)
                else { throw S3Error.malformedXML() }
                rule.maxAgeSeconds = seconds
            default:
                throw S3Error.malformedXML()
            }
        }
        guard !rule.allowedOrigins.isEmpty, !rule.allowedMethods.isEmpty else { throw S3Error.malformedXML() }
        return rule
    }

    /// RFC 9110's token characters (header names), less `*`, which is checked first.
    private static func isTokenCharacter(_ c: UInt8) -> Bool {
        switch c {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            true
        default: "!#$%&'+-.^_`|~".utf8.contains(c)
        }
    }

    /// The GetBucketCors document, also what is stored.
    var document: XMLWriter {
        var xml = XMLWriter()
        xml.group("CORSConfiguration", namespace: true) { x in
            for rule in rules {
                x.group("CORSRule") { r in
                    if let id = rule.id { r.element("ID", id) }
                    for value in rule.allowedHeaders { r.element("AllowedHeader", value) }
                    for value in rule.allowedMethods { r.element("AllowedMethod", value) }
                    for value in rule.allowedOrigins { r.element("AllowedOrigin", value) }
                    for value in rule.exposeHeaders { r.element("ExposeHeader", value) }
                    if let seconds = rule.maxAgeSeconds { r.element("MaxAgeSeconds", seconds) }
                }
            }
        }
        return xml
    }
}
