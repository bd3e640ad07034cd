import Foundation
import Reactor

/// ISO-8601 timestamps as OpenWA writes them (UTC, milliseconds, `Z`) and the forms it accepts.
package enum ISODate {
    package static func format(_ date: Date) -> String {
        ISOTimestamp.format(date)
    }

    package static func json(_ date: Date?) -> JSONValue {
        date.map { .string(format($0)) } ?? .null
    }

    /// Parses a full timestamp (with or without fraction, `Z` or an offset) or a plain date
    /// (`2026-12-31`, taken as midnight UTC); nil when it is none of these.
    package static func parse(_ text: String) -> Date? {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        if let date = ISOTimestamp.parse(trimmed) { return date }
        let dateOnly = Date.ISO8601FormatStyle().year().month().day()
        if trimmed.count == 10, let date = try? dateOnly.parse(trimmed) { return date }
        return nil
    }
}
