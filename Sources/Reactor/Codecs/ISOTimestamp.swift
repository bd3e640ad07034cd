import Foundation

/// ISO-8601 timestamps in UTC with milliseconds (`2026-11-29T15:48:11.000Z`), the form OpenWA
/// returns for entity dates and the form every timestamp column stores.
///
/// Written by hand rather than with a shared `DateFormatter`, which is mutable and not safe to
/// share across threads, and rather than `Date.ISO8601FormatStyle`, whose fractional seconds
/// truncate a `Date` that sits a hair below a whole millisecond (`.122999…` prints `.122`). Here
/// a date is rounded to the nearest millisecond, so format → parse → format is stable, and the
/// fixed width makes stored strings sort in time order.
package enum ISOTimestamp {
    private static let millisecondsPerDay: Int64 = 86_400_000

    /// Formats `date` as `YYYY-MM-DDTHH:MM:SS.sssZ`, rounded to the nearest millisecond.
    package static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (days, remainder) = floorDivision(milliseconds, millisecondsPerDay)
        let civil = CivilDate(daysSinceEpoch: days)
        let hour = remainder / 3_600_000
        let minute = remainder / 60_000 % 60
        let second = remainder / 1000 % 60
        let millisecond = remainder % 1000

        if (0...9_999).contains(civil.year) {
            // The common case, written as 24 bytes in place (every column and webhook stamp goes here).
            return String(unsafeUninitializedCapacity: 24) { out in
                var position = 0
                func put(_ value: Int64, _ width: Int, _ separator: UInt8) {
                    var rest = value
                    for offset in stride(from: width - 1, through: 0, by: -1) {
                        out[position + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
                        rest /= 10
                    }
                    out[position + width] = separator
                    position += width + 1
                }
                put(civil.year, 4, UInt8(ascii: "-"))
                put(civil.month, 2, UInt8(ascii: "-"))
                put(civil.day, 2, UInt8(ascii: "T"))
                put(hour, 2, UInt8(ascii: ":"))
                put(minute, 2, UInt8(ascii: ":"))
                put(second, 2, UInt8(ascii: "."))
                put(millisecond, 3, UInt8(ascii: "Z"))
                return position
            }
        }
        var text = ""
        text.reserveCapacity(24)
        append(civil.year, width: 4, to: &text)
        text += "-"
        append(civil.month, width: 2, to: &text)
        text += "-"
        append(civil.day, width: 2, to: &text)
        text += "T"
        append(hour, width: 2, to: &text)
        text += ":"
        append(minute, width: 2, to: &text)
        text += ":"
        append(second, width: 2, to: &text)
        text += "."
        append(millisecond, width: 3, to: &text)
        text += "Z"
        return text
    }

    /// Parses `YYYY-MM-DD(T| )HH:MM:SS[.fraction](Z|±HH[:MM])`.
    ///
    /// Digits past milliseconds are dropped (as JavaScript does); the separator may be a space and
    /// the offset may be hours only, which is PostgreSQL's text form. Returns nil for anything
    /// else, including out-of-range fields such as February 30th.
    package static func parse(_ text: String) -> Date? {
        var scanner = TimestampScanner(text)
        guard let year = scanner.number(digits: 4), scanner.skip("-"),
            let month = scanner.number(digits: 2), scanner.skip("-"),
            let day = scanner.number(digits: 2), scanner.skip(anyOf: "Tt "),
            let hour = scanner.number(digits: 2), scanner.skip(":"),
            let minute = scanner.number(digits: 2), scanner.skip(":"),
            let second = scanner.number(digits: 2)
        else { return nil }
        guard (1...12).contains(month), (1...CivilDate.daysIn(month: month, year: year)).contains(day),
            hour < 24, minute < 60, second < 60
        else { return nil }

        var millisecond: Int64 = 0
        if scanner.skip(".") {
            guard let fraction = scanner.fractionInMilliseconds() else { return nil }
            millisecond = fraction
        }
        guard let offsetMinutes = scanner.utcOffsetMinutes(), scanner.isAtEnd else { return nil }

        let days = CivilDate(year: year, month: month, day: day).daysSinceEpoch
        let milliseconds =
            days * millisecondsPerDay + (hour * 3600 + minute * 60 + second - offsetMinutes * 60) * 1000 + millisecond
        return Date(timeIntervalSince1970: Double(milliseconds) / 1000)
    }

    /// Division rounding toward negative infinity, so dates before 1970 land on the right day.
    private static func floorDivision(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let remainder = value % divisor
        return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
    }

    private static func append(_ value: Int64, width: Int, to text: inout String) {
        let digits = String(value)
        if digits.count < width { text += String(repeating: "0", count: width - digits.count) }
        text += digits
    }
}

/// A proleptic Gregorian calendar date and its day count since 1970-01-01.
///
/// The conversions count in 400-year eras (146 097 days each) with years starting in March, which
/// puts the leap day at the end of the year and makes every month's offset a linear formula.
private struct CivilDate {
    var year: Int64
    var month: Int64
    var day: Int64

    /// Days from 0000-03-01 to 1970-01-01.
    private static let epochShift: Int64 = 719_468

    init(year: Int64, month: Int64, day: Int64) {
        self.year = year
        self.month = month
        self.day = day
    }

    init(daysSinceEpoch: Int64) {
        let shifted = daysSinceEpoch + Self.epochShift
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let marchBasedMonth = (5 * dayOfYear + 2) / 153
        day = dayOfYear - (153 * marchBasedMonth + 2) / 5 + 1
        month = marchBasedMonth < 10 ? marchBasedMonth + 3 : marchBasedMonth - 9
        year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
    }

    var daysSinceEpoch: Int64 {
        let marchBasedYear = month <= 2 ? year - 1 : year
        let era = (marchBasedYear >= 0 ? marchBasedYear : marchBasedYear - 399) / 400
        let yearOfEra = marchBasedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - Self.epochShift
    }

    static func daysIn(month: Int64, year: Int64) -> Int64 {
        switch month {
        case 2:
            let isLeap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
            return isLeap ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }
}

/// A cursor over the ASCII bytes of a timestamp.
private struct TimestampScanner {
    private let bytes: [UInt8]
    private var position = 0

    init(_ text: String) { bytes = Array(text.utf8) }

    var isAtEnd: Bool { position == bytes.count }

    private func digit(at index: Int) -> Int64? {
        guard index < bytes.count, bytes[index] >= UInt8(ascii: "0"), bytes[index] <= UInt8(ascii: "9") else {
            return nil
        }
        return Int64(bytes[index] - UInt8(ascii: "0"))
    }

    mutating func number(digits count: Int) -> Int64? {
        var value: Int64 = 0
        for offset in 0..<count {
            guard let digit = digit(at: position + offset) else { return nil }
            value = value * 10 + digit
        }
        position += count
        return value
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
        skip(anyOf: String(character))
    }

    mutating func skip(anyOf characters: String) -> Bool {
        guard position < bytes.count, characters.utf8.contains(bytes[position]) else { return false }
        position += 1
        return true
    }

    /// One to nine fraction digits, scaled to milliseconds (extra digits are dropped).
    mutating func fractionInMilliseconds() -> Int64? {
        var milliseconds: Int64 = 0
        var count = 0
        while let digit = digit(at: position) {
            if count < 3 { milliseconds = milliseconds * 10 + digit }
            count += 1
            position += 1
        }
        guard (1...9).contains(count) else { return nil }
        for _ in count..<max(count, 3) { milliseconds *= 10 }
        return milliseconds
    }

    /// `Z`, or `±HH`, `±HH:MM`, `±HHMM`, as minutes east of UTC.
    mutating func utcOffsetMinutes() -> Int64? {
        if skip(anyOf: "Zz") { return 0 }
        guard position < bytes.count else { return nil }
        let sign: Int64
        switch bytes[position] {
        case UInt8(ascii: "+"): sign = 1
        case UInt8(ascii: "-"): sign = -1
        default: return nil
        }
        position += 1
        guard let hours = number(digits: 2), hours < 24 else { return nil }
        var minutes: Int64 = 0
        if !isAtEnd {
            _ = skip(":")
            guard let parsed = number(digits: 2), parsed < 60 else { return nil }
            minutes = parsed
        }
        return sign * (hours * 60 + minutes)
    }
}
