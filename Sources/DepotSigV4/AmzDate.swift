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
        let c = Array(text.utf8)
        guard c.count == 16, c[8] == UInt8(ascii: "T"), c[15] == UInt8(ascii: "Z"),
            let year = Self.digits(c, 0, 4), let month = Self.digits(c, 4, 2), let day = Self.digits(c, 6, 2),
            let hour = Self.digits(c, 9, 2), let minute = Self.digits(c, 11, 2), let second = Self.digits(c, 13, 2)
        else { return nil }
        self.init(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
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
        let (year, month, day) = Self.civilFromDays(days)
        let s = secondOfDay
        return Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2) + "T" + Self.pad(s / 3_600, 2)
            + Self.pad(s / 60 % 60, 2) + Self.pad(s % 60, 2) + "Z"
    }

    /// `yyyyMMdd`, the first element of the credential scope.
    public var dateStamp: String {
        let (year, month, day) = Self.civilFromDays(days)
        return Self.pad(year, 4) + Self.pad(month, 2) + Self.pad(day, 2)
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

    private static func digits(_ c: [UInt8], _ start: Int, _ count: Int) -> Int? {
        var value = 0
        for b in c[start..<start + count] {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int(b - UInt8(ascii: "0"))
        }
        return value
    }

    private static func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
    }
}
