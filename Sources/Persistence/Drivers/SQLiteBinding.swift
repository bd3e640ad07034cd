internal import CSQLite3

/// Moves `SQLValue`s into and out of a prepared SQLite statement.
///
/// Kept apart from `SQLiteConnection` so the connection reads as lifecycle and control flow, and
/// this file as the type mapping: SQLite's five storage classes map one-to-one onto `SQLValue`.
enum SQLiteBinding {
    /// Binds `values` to the statement's parameters `?1 … ?N`.
    ///
    /// The count must match exactly: `?N` numbering makes SQLite report the highest index as the
    /// parameter count, and a short bind list would otherwise run with silent NULLs.
    static func bind(
        _ values: [SQLValue], to statement: OpaquePointer, sql: String,
        failure: (Int32) -> PersistenceError
    ) throws {
        let expected = Int(sqlite3_bind_parameter_count(statement))
        guard expected == values.count else {
            throw PersistenceError.sqlite(
                code: SQLITE_RANGE,
                message: "statement takes \(expected) parameters but \(values.count) were bound", sql: sql)
        }
        for (offset, value) in values.enumerated() {
            let code = bind(value, at: Int32(offset + 1), of: statement)
            guard code == SQLITE_OK else { throw failure(code) }
        }
    }

    private static func bind(_ value: SQLValue, at position: Int32, of statement: OpaquePointer) -> Int32 {
        switch value {
        case .null:
            return sqlite3_bind_null(statement, position)
        case .integer(let integer):
            return sqlite3_bind_int64(statement, position, integer)
        case .real(let real):
            return sqlite3_bind_double(statement, position, real)
        case .text(let text):
            // The explicit byte length keeps text with embedded NULs intact; TRANSIENT makes SQLite
            // copy the bytes, since the Swift buffer only lives for this closure.
            let length = UInt64(text.utf8.count)
            return text.withCString { pointer in
                sqlite3_bind_text64(statement, position, pointer, length, CSQLite3_TRANSIENT(), UInt8(SQLITE_UTF8))
            }
        case .blob(let bytes):
            // An empty array may have no base address, and a NULL pointer would bind SQL NULL
            // instead of an empty blob.
            guard !bytes.isEmpty else { return sqlite3_bind_zeroblob(statement, position, 0) }
            return bytes.withUnsafeBytes { raw in
                sqlite3_bind_blob64(statement, position, raw.baseAddress, UInt64(raw.count), CSQLite3_TRANSIENT())
            }
        }
    }

    /// The column index shared by every row of the current result.
    static func columnIndex(of statement: OpaquePointer, count: Int32) -> [String: Int] {
        let names = (0..<count).map { column in
            sqlite3_column_name(statement, column).map { String(cString: $0) } ?? "column\(column + 1)"
        }
        return SQLRow.columnIndex(for: names)
    }

    /// The values of the row the statement is positioned on.
    static func values(of statement: OpaquePointer, count: Int32) -> [SQLValue] {
        (0..<count).map { value(of: statement, column: $0) }
    }

    private static func value(of statement: OpaquePointer, column: Int32) -> SQLValue {
        switch sqlite3_column_type(statement, column) {
        case SQLITE_INTEGER:
            return .integer(sqlite3_column_int64(statement, column))
        case SQLITE_FLOAT:
            return .real(sqlite3_column_double(statement, column))
        case SQLITE_TEXT:
            // Fetch the pointer before the length: the text call may convert the value, which
            // changes what `column_bytes` reports.
            guard let text = sqlite3_column_text(statement, column) else { return .text("") }
            let length = Int(sqlite3_column_bytes(statement, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: length), as: UTF8.self))
        case SQLITE_BLOB:
            guard let blob = sqlite3_column_blob(statement, column) else { return .blob([]) }
            let length = Int(sqlite3_column_bytes(statement, column))
            return .blob(Array(UnsafeRawBufferPointer(start: blob, count: length)))
        default:
            return .null
        }
    }
}
