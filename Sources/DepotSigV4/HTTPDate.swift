/// The HTTP date codec: one parser for every form in which clients send a date header (`Date`,
/// `If-Modified-Since`, …), and the one form servers write.
///
/// Accepted, as RFC 9110 asks recipients to and as S3 does for signing:
/// - IMF-fixdate / RFC 1123: `Sun, 06 Nov 1994 08:49:37 GMT`;
/// - RFC 2822 / RFC 5322 with a numeric zone, as Python's `email.utils.formatdate` and the AWS Signature
///   Version 2 examples write it: `Tue, 27 Mar 2007 19:36:42 +0000`, `… -0000`, `… +0130`; the weekday and the
///   seconds are optional there, and `UT`/`UTC`/`Z` name UTC too;
/// - RFC 850: `Sunday, 06-Nov-94 08:49:37 GMT` (two-digit years below 70 are 20xx);
/// - asctime: `Sun Nov  6 08:49:37 1994` (always UTC).
///
/// The weekday is not checked against the date (clients get it wrong and it adds nothing); every other field is,
/// so `31 Jun` or `25:00:00` is refused rather than rolled over.
public enum HTTPDate {
    /// Unix seconds of an HTTP date in any accepted form; nil for anything else.
    public static func parse(_ text: some StringProtocol) -> Int? {
        var tokens = text.split(whereSeparator: { $0 == " " || $0 == "\t" }).map { token -> Substring in
            var t = Substring(token)
            while t.last == "," { t = t.dropLast() }
            return t
        }
        guard !tokens.isEmpty, tokens.count <= 6 else { return nil }
        if isWeekday(tokens[0]) { tokens.removeFirst() }
        switch tokens.count {
        case 3 where tokens[0].contains("-"):
            // RFC 850: DD-Mon-YY HH:MM:SS GMT
            let dayMonthYear = tokens[0].split(separator: "-", omittingEmptySubsequences: false)
            guard dayMonthYear.count == 3, let day = number(dayMonthYear[0], digits: 1...2),
                let month = monthNumber(dayMonthYear[1]), var year = number(dayMonthYear[2], digits: 2...4)
            else { return nil }
            if dayMonthYear[2].count == 2 { year += year < 70 ? 2000 : 1900 }
            return assemble(year, month, day, time: tokens[1], zone: tokens[2])
        case 4 where monthNumber(tokens[0]) != nil:
            // asctime: Mon D HH:MM:SS YYYY
            guard let month = monthNumber(tokens[0]), let day = number(tokens[1], digits: 1...2),
                let year = number(tokens[3], digits: 4...4)
            else { return nil }
            return assemble(year, month, day, time: tokens[2], zone: "GMT")
        case 5:
            // RFC 1123 / 2822: DD Mon YYYY HH:MM[:SS] ZONE
            guard let day = number(tokens[0], digits: 1...2), let month = monthNumber(tokens[1]),
                let year = number(tokens[2], digits: 4...4)
            else { return nil }
            return assemble(year, month, day, time: tokens[3], zone: tokens[4])
        default:
            return nil
        }
    }

    /// ``parse(_:)`` as 64-bit seconds, for comparisons with stored times (`If-Modified-Since` and friends).
    public static func unixSeconds(_ text: String) -> Int64? { parse(text).map(Int64.init) }

    /// IMF-fixdate, the form servers send: `Sun, 06 Nov 1994 08:49:37 GMT`.
    public static func format(_ unixSeconds: Int) -> String {
        let days = unixSeconds >= 0 ? unixSeconds / 86_400 : (unixSeconds - 86_399) / 86_400
        let (year, month, day) = AmzDate.civilFromDays(days)
        let second = unixSeconds - days * 86_400
        // 1970-01-01 was a Thursday.
        let weekday = weekdayNames[((days % 7) + 7 + 3) % 7]
        return "\(weekday), \(pad(day)) \(monthNames[month - 1]) \(year) \(pad(second / 3_600)):"
            + "\(pad(second / 60 % 60)):\(pad(second % 60)) GMT"
    }

    private static let weekdayNames = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    private static let fullWeekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
    private static let monthNames = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    private static func isWeekday(_ token: Substring) -> Bool {
        let lower = token.lowercased()
        return weekdayNames.contains { $0.lowercased() == lower } || fullWeekdayNames.contains(lower)
    }

    private static func monthNumber(_ token: Substring) -> Int? {
        let lower = token.lowercased()
        return monthNames.firstIndex { $0.lowercased() == lower }.map { $0 + 1 }
    }

    private static func number(_ token: Substring, digits: ClosedRange<Int>) -> Int? {
        guard digits.contains(token.utf8.count), token.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }) else { return nil }
        return Int(token)
    }

    /// `HH:MM:SS` or `HH:MM` local time in `zone`, to Unix seconds.
    private static func assemble(_ year: Int, _ month: Int, _ day: Int, time: Substring, zone: Substring) -> Int? {
        let parts = time.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2 || parts.count == 3, let hour = number(parts[0], digits: 2...2),
            let minute = number(parts[1], digits: 2...2)
        else { return nil }
        var second = 0
        if parts.count == 3 {
            guard let s = number(parts[2], digits: 2...2) else { return nil }
            second = s
        }
        guard let offset = zoneOffset(zone),
            let local = AmzDate(year: year, month: month, day: day, hour: hour, minute: minute, second: second)
        else { return nil }
        return local.unixSeconds - offset
    }

    /// Seconds east of UTC: `GMT`, `UT`, `UTC`, `Z` are 0; `+hhmm` / `-hhmm` (RFC 2822; `-0000` means UTC with the
    /// local zone unknown, which is still UTC for a timestamp).
    private static func zoneOffset(_ zone: Substring) -> Int? {
        switch zone.uppercased() {
        case "GMT", "UT", "UTC", "Z": return 0
        default: break
        }
        guard zone.utf8.count == 5, let sign = zone.first, sign == "+" || sign == "-",
            let hours = number(zone.dropFirst().prefix(2), digits: 2...2),
            let minutes = number(zone.dropFirst(3), digits: 2...2), hours <= 23, minutes <= 59
        else { return nil }
        let seconds = hours * 3_600 + minutes * 60
        return sign == "-" ? -seconds : seconds
    }

    private static func pad(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
