import Reactor
import Foundation

/// One bound parameter or one result column, independent of the driver.
///
/// The cases are SQLite's storage classes; PostgreSQL values map onto them (booleans and numbers
/// to `integer`/`real`, everything textual to `text`, `bytea` to `blob`).
package enum SQLValue: Sendable, Equatable {
    /// SQL NULL.
    case null
    /// A 64-bit signed integer (also booleans, as 0 and 1).
    case integer(Int64)
    /// An IEEE double.
    case real(Double)
    /// UTF-8 text (also timestamps, as ISO-8601, and JSON).
    case text(String)
    /// Raw bytes.
    case blob([UInt8])
}

extension SQLValue {
    /// Text, or NULL when `value` is nil.
    package init(_ value: String?) {
        self = value.map { .text($0) } ?? .null
    }

    /// An integer, or NULL when `value` is nil.
    package init(_ value: Int?) {
        self = value.map { .integer(Int64($0)) } ?? .null
    }

    /// A boolean as the integer 0 or 1: SQLite has no boolean type, and PostgreSQL accepts `1`/`0`
    /// as input for a `BOOLEAN` parameter sent as text.
    package init(_ value: Bool) {
        self = .integer(value ? 1 : 0)
    }

    /// True for `.null`.
    package var isNull: Bool { self == .null }
}

/// One result row: the values of a statement's columns, addressed by column name.
///
/// All rows of one result share a single column index (copy-on-write), so a row costs its values
/// plus a reference.
package struct SQLRow: Sendable {
    private let columnIndex: [String: Int]
    private let values: [SQLValue]

    /// Builds a row; `columnIndex` maps each column name to its position in `values`.
    package init(columnIndex: [String: Int], values: [SQLValue]) {
        self.columnIndex = columnIndex
        self.values = values
    }

    /// Builds the shared column index for a result with these column names. When a name repeats,
    /// the first column wins, as in most drivers.
    package static func columnIndex(for names: [String]) -> [String: Int] {
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil {
            index[name] = position
        }
        return index
    }

    /// The column names this row has.
    package var columns: [String] {
        columnIndex.sorted { $0.value < $1.value }.map(\.key)
    }

    /// True when the statement selected a column with this name.
    package func contains(_ column: String) -> Bool { columnIndex[column] != nil }

    /// The value of `column`; a column the statement did not select reads as `.null`, so callers
    /// that must tell the two apart check `contains(_:)` first.
    package subscript(_ column: String) -> SQLValue {
        guard let position = columnIndex[column] else { return .null }
        return values[position]
    }

    /// The column as text; nil for NULL. Integers and reals are rendered as text, since some
    /// drivers return everything in text form anyway.
    package func string(_ column: String) -> String? {
        switch self[column] {
        case .text(let text): text
        case .integer(let value): String(value)
        case .real(let value): String(value)
        case .null, .blob: nil
        }
    }

    /// The column as an integer; nil for NULL or a value that is not an integer. Text holding a
    /// decimal integer is accepted for drivers that return text (PostgreSQL's text format).
    package func int(_ column: String) -> Int64? {
        switch self[column] {
        case .integer(let value): value
        case .text(let text): Int64(text)
        case .real(let value): Int64(exactly: value)
        case .null, .blob: nil
        }
    }

    /// The column as a boolean: integers are true when non-zero, and PostgreSQL's text forms
    /// (`t`/`f`, `true`/`false`) are understood. Nil for NULL or anything else.
    package func bool(_ column: String) -> Bool? {
        switch self[column] {
        case .integer(let value): value != 0
        case .text(let text):
            switch text.lowercased() {
            case "t", "true", "1": true
            case "f", "false", "0": false
            default: nil
            }
        case .real, .null, .blob: nil
        }
    }

    /// The column as a floating-point number; integers convert. Nil for NULL or non-numbers.
    package func double(_ column: String) -> Double? {
        switch self[column] {
        case .real(let value): value
        case .integer(let value): Double(value)
        case .text(let text): Double(text)
        case .null, .blob: nil
        }
    }

    /// The column as raw bytes; text is returned as its UTF-8 bytes. Nil for NULL or numbers.
    package func bytes(_ column: String) -> [UInt8]? {
        switch self[column] {
        case .blob(let bytes): bytes
        case .text(let text): Array(text.utf8)
        case .null, .integer, .real: nil
        }
    }
}

// MARK: - Record coding: how the SQL stores map record fields to column values and back

/// Throwing accessors the stores use to turn rows into records.
///
/// A NOT NULL column that reads as NULL, or a timestamp that does not parse, means the row was
/// written by something other than this code; the stores report that as a decoding error naming
/// the column rather than inventing a value.
extension SQLRow {
    func requiredString(_ column: String) throws -> String {
        guard let value = string(column) else { throw PersistenceError.decoding("column \(column) is NULL or missing") }
        return value
    }

    func requiredInt(_ column: String) throws -> Int {
        guard let value = int(column), let narrowed = Int(exactly: value) else {
            throw PersistenceError.decoding("column \(column) is not an integer")
        }
        return narrowed
    }

    func optionalInt(_ column: String) throws -> Int? {
        guard !self[column].isNull else { return nil }
        return try requiredInt(column)
    }

    func requiredBool(_ column: String) throws -> Bool {
        guard let value = bool(column) else { throw PersistenceError.decoding("column \(column) is not a boolean") }
        return value
    }

    func requiredDate(_ column: String) throws -> Date {
        let text = try requiredString(column)
        guard let date = ISOTimestamp.parse(text) else {
            throw PersistenceError.decoding("column \(column) holds an unparseable timestamp")
        }
        return date
    }

    func optionalDate(_ column: String) throws -> Date? {
        guard !self[column].isNull else { return nil }
        return try requiredDate(column)
    }
}

extension SQLValue {
    /// A timestamp column value: ISO-8601 UTC text with milliseconds, or NULL.
    init(_ date: Date?) {
        self = date.map { .text(ISOTimestamp.format($0)) } ?? .null
    }
}
