/// Builds S3 response XML. Small and explicit: every S3 response is a short, fixed shape.
public struct XMLWriter {
    public private(set) var text = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"

    public init() {}

    public mutating func open(_ name: String, namespace: Bool = false) {
        text += namespace ? "<\(name) xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">" : "<\(name)>"
    }

    public mutating func close(_ name: String) { text += "</\(name)>" }

    public mutating func element(_ name: String, _ value: String) {
        text += "<\(name)>\(XMLWriter.escape(value))</\(name)>"
    }

    public mutating func element(_ name: String, _ value: some BinaryInteger) { element(name, String(value)) }

    public mutating func element(_ name: String, _ value: Bool) { element(name, value ? "true" : "false") }

    /// Appends markup verbatim (attributes the helpers do not model).
    public mutating func raw(_ markup: String) { text += markup }

    public mutating func empty(_ name: String) { text += "<\(name)/>" }

    public mutating func group(_ name: String, namespace: Bool = false, _ body: (inout XMLWriter) -> Void) {
        open(name, namespace: namespace)
        body(&self)
        close(name)
    }

    public static func escape(_ s: String) -> String {
        guard s.contains(where: { "<>&\"'".contains($0) || $0.asciiValue.map { $0 < 0x20 } == true }) else { return s }
        var out = ""
        out.reserveCapacity(s.count + 16)
        for c in s.unicodeScalars {
            switch c {
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "&": out += "&amp;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            default:
                if c.value < 0x20 && c != "\t" && c != "\n" && c != "\r" {
                    out += "&#x\(String(c.value, radix: 16));"
                } else {
                    out.unicodeScalars.append(c)
                }
            }
        }
        return out
    }
}
