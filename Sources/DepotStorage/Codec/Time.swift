/// Calendar arithmetic and the date formats S3 and HTTP use, without a calendar library.
/// ISO 8601 with milliseconds, as S3 XML writes times: `2026-11-25T01:23:45.678Z`.
public func iso8601(milliseconds: Int64) -> String {
    let (date, time) = civil(milliseconds / 1000)
    let ms = Int(milliseconds % 1000)
    return "\(date)T\(time).\(pad(ms, 3))Z"
}

/// RFC 7231 HTTP date, as `Last-Modified` wants: `Wed, 25 Nov 2026 01:23:45 GMT`.
public func httpDate(seconds: Int64) -> String {
    let days = floorDiv(seconds, 86400)
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][Int(((days % 7) + 7) % 7)]
    let (y, m, d) = civilFromDays(days)
    let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
    let secs = Int(seconds - days * 86400)
    return
        "\(weekday), \(pad(d, 2)) \(months[m - 1]) \(y) \(pad(secs / 3600, 2)):\(pad(secs / 60 % 60, 2)):\(pad(secs % 60, 2)) GMT"
}

public func pad(_ v: Int, _ width: Int) -> String {
    let s = String(v)
    return s.count >= width ? s : String(repeating: "0", count: width - s.count) + s
}

public func floorDiv(_ a: Int64, _ b: Int64) -> Int64 { a >= 0 ? a / b : -((-a + b - 1) / b) }

public func civil(_ seconds: Int64) -> (String, String) {
    let days = floorDiv(seconds, 86400)
    let (y, m, d) = civilFromDays(days)
    let s = Int(seconds - days * 86400)
    return ("\(y)-\(pad(m, 2))-\(pad(d, 2))", "\(pad(s / 3600, 2)):\(pad(s / 60 % 60, 2)):\(pad(s % 60, 2))")
}

/// Howard Hinnant's days-from-civil algorithm (public-domain arithmetic, no calendar library).
public func civilFromDays(_ z0: Int64) -> (Int, Int, Int) {
    let z = z0 + 719468
    let era = (z >= 0 ? z : z - 146096) / 146097
    let doe = z - era * 146097
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
    let y = yoe + era * 400
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
    let mp = (5 * doy + 2) / 153
    let d = doy - (153 * mp + 2) / 5 + 1
    let m = mp < 10 ? mp + 3 : mp - 9
    return (Int(m <= 2 ? y + 1 : y), Int(m), Int(d))
}

public func daysFromCivil(_ y0: Int, _ m: Int, _ d: Int) -> Int64 {
    let y = Int64(m <= 2 ? y0 - 1 : y0)
    let era = (y >= 0 ? y : y - 399) / 400
    let yoe = y - era * 400
    let mm = Int64(m)
    let doy = (153 * (mm > 2 ? mm - 3 : mm + 9) + 2) / 5 + Int64(d) - 1
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
    return era * 146097 + doe - 719468
}
