/// A request time as SigV4 sees it: whole seconds since the Unix epoch, in UTC.
///
/// SigV4 writes times as `yyyyMMdd'T'HHmmss'Z'` (`x-amz-date`, `X-Amz-Date`, the string to sign) and days as
/// `yyyyMMdd` (the credential scope). Both are formatted and parsed here by hand, with the civil-from-days
/// arithmetic of the proleptic Gregorian calendar, so the module needs no Foundation and no time zone data,
/// and tests can pin the clock to an exact second.
public struct AmzDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    public let unixSeconds: Int

    public init(unixSeconds: Int) {
        self.unixSeconds = unixSeconds
    }

    /// Parses `yyyyMMdd'T'HHmmss'Z'` (16 characters, UTC); nil for anything else or an impossible date.
    public init?(iso8601Basic text: some StringProtocol) {
        guard let fields = Self.parseDigits(text.utf8, pattern: Self.iso8601BasicPattern) else { return nil }
        self.init(
            year: fields.0, month: fields.1, day: fields.2, hour: fields.3, minute: fields.4, second: fields.5)
    }

    /// Whether `text` is a `yyyyMMdd` day that exists (the credential scope's first element).
    public static func isValidDateStamp(_ utf8: some Collection<UInt8>) -> Bool {
        guard let fields = parseDigits(utf8, pattern: dateStampPattern) else { return false }
        return AmzDate(year: fields.0, month: fields.1, day: fields.2, hour: 0, minute: 0, second: 0) != nil
    }

    /// Parses the HTTP `Date` header, which SigV4 and SigV2 accept when `x-amz-date` is absent, in any of the forms
    /// ``HTTPDate`` reads (IMF-fixdate, RFC 2822 with a numeric zone such as `-0000`, RFC 850, asctime).
    public init?(httpDate text: some StringProtocol) {
        guard let seconds = HTTPDate.parse(text) else { return nil }
        self.init(unixSeconds: seconds)
    }

    /// Validates each field, so that `20130231T000000Z` is refused rather than silently rolled into March.
    public init?(year: Int, month: Int, day: Int, hour: Int, minute: Int, second: Int) {
        guard (1...12).contains(month), (1...Self.daysInMonth(year: year, month: month)).contains(day),
            (0...23).contains(hour), (0...59).contains(minute), (0...59).contains(second)
        else { return nil }
        let days = Self.daysFromCivil(year: year, month: month, day: day)
        self.unixSeconds = days * 86_400 + hour * 3_600 + minute * 60 + second
    }

    /// `yyyyMMdd'T'HHmmss'Z'`, as in `x-amz-date` and the string to sign.
    public var iso8601Basic: String {
        String(unsafeUninitializedCapacity: 16) { buffer in
            writeISO8601Basic(into: UnsafeMutableBufferPointer(rebasing: buffer[...]))
            return 16
        }
    }

    /// `yyyyMMdd`, the first element of the credential scope.
    public var dateStamp: String {
        String(unsafeUninitializedCapacity: 8) { buffer in
            writeDateStamp(into: UnsafeMutableBufferPointer(rebasing: buffer[...]))
            return 8
        }
    }

    /// Appends ``iso8601Basic``'s bytes, for a string to sign built as bytes.
    func appendISO8601Basic(to out: inout [UInt8]) {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { buffer in
            writeISO8601Basic(into: buffer)
            out.append(contentsOf: buffer)
        }
    }

    /// Whether this time falls on the day `stamp` (`yyyyMMdd`) names, without formatting the day.
    func isOnDay(_ stamp: some StringProtocol) -> Bool {
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 8) { buffer in
            writeDateStamp(into: buffer)
            return stamp.utf8.elementsEqual(buffer)
        }
    }

    /// The one formatter of both forms: digits written in place, no intermediate strings.
    private func writeISO8601Basic(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        writeDateStamp(into: buffer)
        let s = secondOfDay
        buffer[8] = UInt8(ascii: "T")
        Self.write(s / 3_600, width: 2, into: buffer, at: 9)
        Self.write(s / 60 % 60, width: 2, into: buffer, at: 11)
        Self.write(s % 60, width: 2, into: buffer, at: 13)
        buffer[15] = UInt8(ascii: "Z")
    }

    private func writeDateStamp(into buffer: UnsafeMutableBufferPointer<UInt8>) {
        let (year, month, day) = Self.civilFromDays(days)
        Self.write(year, width: 4, into: buffer, at: 0)
        Self.write(month, width: 2, into: buffer, at: 4)
        Self.write(day, width: 2, into: buffer, at: 6)
    }

    /// Zero-padded decimal digits; a year outside 0...9999 keeps its last four digits (SigV4 has no other form).
    private static func write(_ value: Int, width: Int, into buffer: UnsafeMutableBufferPointer<UInt8>, at start: Int) {
        var rest = abs(value)
        for position in stride(from: start + width - 1, through: start, by: -1) {
            buffer[position] = UInt8(ascii: "0") + UInt8(rest % 10)
            rest /= 10
        }
    }

    public var description: String { iso8601Basic }

    public static func < (lhs: AmzDate, rhs: AmzDate) -> Bool { lhs.unixSeconds < rhs.unixSeconds }

    // MARK: - Calendar arithmetic

    /// Floor division, so that times before 1970 still land on the right day.
    private var days: Int { unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400 }
    private var secondOfDay: Int { unixSeconds - days * 86_400 }

    /// Days since 1970-01-01 of a proleptic Gregorian date. Counts in 400-year eras (146 097 days each) whose
    /// years start on 1 March, so that the leap day falls at the end of the year and needs no special case.
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let shiftedMonth = month > 2 ? month - 3 : month + 9
        let dayOfYear = (153 * shiftedMonth + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `daysFromCivil`.
    static func civilFromDays(_ days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1_460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Where each field's digits are in `yyyyMMdd'T'HHmmss'Z'`: a field number (0...5) per position, or the
    /// literal byte expected there (negative: `-byte`).
    private static let iso8601BasicPattern: [Int] = [
        0, 0, 0, 0, 1, 1, 2, 2, -Int(UInt8(ascii: "T")), 3, 3, 4, 4, 5, 5, -Int(UInt8(ascii: "Z")),
    ]
    private static let dateStampPattern: [Int] = [0, 0, 0, 0, 1, 1, 2, 2]

    /// Reads the decimal fields a pattern lays out, in one pass over the bytes; nil on any other byte or length.
    private static func parseDigits(_ bytes: some Collection<UInt8>, pattern: [Int])
        -> (Int, Int, Int, Int, Int, Int)?
    {
        guard bytes.count == pattern.count else { return nil }
        var fields = (0, 0, 0, 0, 0, 0)
        for (b, slot) in zip(bytes, pattern) {
            if slot < 0 {
                guard Int(b) == -slot else { return nil }
                continue
            }
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let digit = Int(b - UInt8(ascii: "0"))
            switch slot {
            case 0: fields.0 = fields.0 * 10 + digit
            case 1: fields.1 = fields.1 * 10 + digit
            case 2: fields.2 = fields.2 * 10 + digit
            case 3: fields.3 = fields.3 * 10 + digit
            case 4: fields.4 = fields.4 * 10 + digit
            default: fields.5 = fields.5 * 10 + digit
            }
        }
        return fields
    }
}
