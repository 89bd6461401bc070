/// FastCDC chunk-size parameters, in bytes.
///
/// Together with the Gear table and the masks (see `FastCDC`) they define chunk identity: the same
/// bytes cut with other parameters give other chunks, so new uploads would no longer deduplicate
/// against chunks stored before. Change them only knowingly.
///
/// The normalization level is fixed at 2 (masks of log2(average) ± 2 bits): it is not a parameter,
/// because the FastCDC measurements found level 2 gives the best deduplication ratio.
public struct ChunkerParameters: Sendable, Equatable, Codable {
    /// No cut is made before a chunk has this many bytes (cut-point skipping: these bytes are not
    /// even hashed).
    public var minimum: Int
    /// The target chunk size. It is where the chunker switches from the strict to the loose mask.
    public var average: Int
    /// A chunk that reaches this size without a cut point is cut here.
    public var maximum: Int

    public init(minimum: Int, average: Int, maximum: Int) {
        self.minimum = minimum
        self.average = average
        self.maximum = maximum
    }

    /// 256 KiB / 1 MiB / 4 MiB: one to fifty chunks for a typical 1–50 MB recording, which keeps
    /// the index small while still deduplicating re-muxed or partly re-uploaded files.
    public static let standard = ChunkerParameters(minimum: 256 << 10, average: 1 << 20, maximum: 4 << 20)

    /// The largest maximum accepted: the streaming chunker holds one buffer of `maximum` bytes
    /// per upload, so this bounds the memory an upload can pin.
    public static let largestMaximum = 64 << 20

    /// The smallest minimum accepted: below it chunk headers and index entries would outweigh the data.
    public static let smallestMinimum = 64

    /// A parameter set that `validate()` rejected. `field` is "minimum", "average" or "maximum";
    /// the description starts with it and names no other field, so configuration errors can point
    /// at the right key.
    public struct Invalid: Error, Equatable, CustomStringConvertible {
        public let field: String
        public let reason: String
        public var description: String { "\(field) \(reason)" }
    }

    /// Checks that the sizes make sense; the error names the first offending field.
    ///
    /// The average does not have to be a power of two. The masks test whole bits, so their bit
    /// count uses log2 of the average rounded to the nearest power of two (`averageBits`), while
    /// the switch from the strict to the loose mask still happens at the exact `average`. Rounding
    /// rather than rejecting keeps hand-written configurations such as "1000KB" valid.
    public func validate() throws {
        guard minimum >= Self.smallestMinimum else {
            throw Invalid(field: "minimum", reason: "must be at least \(Self.smallestMinimum) bytes (is \(minimum))")
        }
        guard average > minimum else {
            throw Invalid(
                field: "average", reason: "must exceed the smallest chunk size, \(minimum) (is \(average))")
        }
        guard maximum > average else {
            throw Invalid(field: "maximum", reason: "must exceed the target chunk size, \(average) (is \(maximum))")
        }
        guard maximum <= Self.largestMaximum else {
            throw Invalid(field: "maximum", reason: "must be at most 64 MiB (is \(maximum))")
        }
    }

    /// log2 of the average rounded to the nearest power of two (a tie goes to the smaller one).
    /// Valid parameters give 6…26.
    var averageBits: Int {
        let lower = Int.bitWidth - 1 - average.leadingZeroBitCount
        let upperDistance = (1 << (lower + 1)) - average
        return upperDistance < average - (1 << lower) ? lower + 1 : lower
    }
}
