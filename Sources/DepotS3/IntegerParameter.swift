/// S3's integer parameters (`max-keys`, `max-parts`, `part-number-marker`, `partNumber`, …, in
/// the query or in headers), parsed as AWS does: decimal digits only, so no sign (`+1`, `-0`),
/// no spaces and no hex; then within the parameter's range. Anything else is 400 InvalidArgument
/// naming the parameter and the value. The one parser for every such parameter, so that a value
/// Swift's `Int(_:)` happens to take (`+1`) or one that would trap later (`part-number-marker=-5`
/// becomes a part key) never reaches a handler.
struct IntegerParameter {
    let name: String
    let range: ClosedRange<Int>
    /// The message when the value is an integer outside `range`; AWS words some of its own.
    var outOfRange: String?

    init(_ name: String, _ range: ClosedRange<Int>, outOfRange: String? = nil) {
        self.name = name
        self.range = range
        self.outOfRange = outOfRange
    }

    /// The parameter's value, or `value` when it is absent.
    func parse(_ text: String?, default value: Int) throws -> Int {
        guard let text else { return value }
        return try parse(text)
    }

    func parse(_ text: String) throws -> Int {
        let digitsOnly = !text.isEmpty && text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
        guard digitsOnly, let number = Int(text), number <= Int(Int32.max) else {
            throw invalid(text, "Provided \(name) not an integer or within integer range")
        }
        guard range.contains(number) else {
            throw invalid(
                text, outOfRange ?? "Argument \(name) must be an integer between \(range.lowerBound) and \(range.upperBound)")
        }
        return number
    }

    private func invalid(_ text: String, _ message: String) -> S3Error {
        S3Error("InvalidArgument", .badRequest, message, details: [("ArgumentName", name), ("ArgumentValue", text)])
    }

    /// The parameters S3 takes, each with its range (page sizes above 1000 are taken and capped
    /// by the handler, as S3 does).
    static let pageSize = 0...Int(Int32.max)
    static let maxKeys = IntegerParameter("max-keys", pageSize)
    static let maxParts = IntegerParameter("max-parts", pageSize)
    static let maxUploads = IntegerParameter("max-uploads", pageSize)
    static let partNumberMarker = IntegerParameter("part-number-marker", pageSize)
    static let maxBuckets = IntegerParameter("max-buckets", 1...10000)
    static let partNumber = IntegerParameter(
        "partNumber", 1...10000, outOfRange: "Part number must be an integer between 1 and 10000, inclusive")
    /// GetObjectAttributes' headers.
    static let attributesMaxParts = IntegerParameter("x-amz-max-parts", 0...1000)
    static let attributesPartNumberMarker = IntegerParameter("x-amz-part-number-marker", pageSize)
}
