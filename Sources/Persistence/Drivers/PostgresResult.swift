internal import CLibPQ

/// What one command returned: its rows (for statements that return any) and the count of rows
/// it inserted, updated or deleted.
struct PostgresOutcome: Sendable {
    var rows: [SQLRow] = []
    var affectedRows = 0
}

/// Turns libpq results (text format) into driver-independent values and errors.
enum PostgresResult {
    // Built-in type OIDs (pg_type.dat); stable across PostgreSQL versions.
    private static let boolOID: UInt32 = 16
    private static let byteaOID: UInt32 = 17
    private static let int8OID: UInt32 = 20
    private static let int2OID: UInt32 = 21
    private static let int4OID: UInt32 = 23
    private static let oidOID: UInt32 = 26
    private static let float4OID: UInt32 = 700
    private static let float8OID: UInt32 = 701
    private static let numericOID: UInt32 = 1700

    /// Adds what `result` carries to `outcome`, or returns the error it reports.
    static func absorb(
        _ result: OpaquePointer, into outcome: inout PostgresOutcome, sql: String, database: String
    ) -> PersistenceError? {
        switch PQresultStatus(result) {
        case PGRES_TUPLES_OK, PGRES_SINGLE_TUPLE:
            outcome.rows.append(contentsOf: rows(of: result))
            return nil
        case PGRES_COMMAND_OK, PGRES_EMPTY_QUERY:
            if let text = PQcmdTuples(result), let count = Int(String(cString: text)) {
                outcome.affectedRows += count
            }
            return nil
        case PGRES_FATAL_ERROR, PGRES_NONFATAL_ERROR, PGRES_BAD_RESPONSE:
            return error(of: result, sql: sql, database: database)
        default:
            // COPY and pipeline states are never started by this driver.
            return .postgres(sqlState: nil, message: "unexpected result status", sql: sql)
        }
    }

    private static func rows(of result: OpaquePointer) -> [SQLRow] {
        let rowCount = PQntuples(result)
        let columnCount = PQnfields(result)
        guard rowCount > 0 else { return [] }
        let names = (0..<columnCount).map { String(cString: PQfname(result, $0)) }
        let types = (0..<columnCount).map { PQftype(result, $0) }
        let index = SQLRow.columnIndex(for: names)
        var rows: [SQLRow] = []
        rows.reserveCapacity(Int(rowCount))
        for row in 0..<rowCount {
            var values: [SQLValue] = []
            values.reserveCapacity(Int(columnCount))
            for column in 0..<columnCount {
                if PQgetisnull(result, row, column) != 0 {
                    values.append(.null)
                    continue
                }
                let length = Int(PQgetlength(result, row, column))
                let bytes = UnsafeRawBufferPointer(start: PQgetvalue(result, row, column), count: length)
                values.append(value(bytes, type: types[Int(column)]))
            }
            rows.append(SQLRow(columnIndex: index, values: values))
        }
        return rows
    }

    /// Maps a text-format value onto SQLite's storage classes, so rows from either driver read
    /// the same through `SQLRow`: booleans become 0/1 integers, `bytea` raw bytes.
    static func value(_ bytes: UnsafeRawBufferPointer, type: UInt32) -> SQLValue {
        let text = String(decoding: bytes, as: UTF8.self)
        switch type {
        case int2OID, int4OID, int8OID, oidOID:
            return Int64(text).map(SQLValue.integer) ?? .text(text)
        case float4OID, float8OID, numericOID:
            return Double(text).map(SQLValue.real) ?? .text(text)
        case boolOID:
            return .integer(text == "t" ? 1 : 0)
        case byteaOID:
            return decodeHex(bytes).map(SQLValue.blob) ?? .text(text)
        default:
            return .text(text)
        }
    }

    /// Decodes `bytea`'s hex output format (`\x0a1b…`, the default since PostgreSQL 9.0).
    static func decodeHex(_ bytes: UnsafeRawBufferPointer) -> [UInt8]? {
        guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"),
            bytes.count % 2 == 0
        else { return nil }
        func nibble(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var decoded: [UInt8] = []
        decoded.reserveCapacity((bytes.count - 2) / 2)
        var index = 2
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            decoded.append(high << 4 | low)
            index += 2
        }
        return decoded
    }

    /// A parameter in text format: integers in decimal, blobs in `bytea` hex input syntax.
    /// Nil is SQL NULL.
    static func text(of value: SQLValue) -> String? {
        switch value {
        case .null: return nil
        case .integer(let number): return String(number)
        case .real(let number):
            if number.isNaN { return "NaN" }
            if number.isInfinite { return number < 0 ? "-Infinity" : "Infinity" }
            return String(number)
        case .text(let text): return text
        case .blob(let bytes):
            let digits: [UInt8] = Array("0123456789abcdef".utf8)
            var hex: [UInt8] = [UInt8(ascii: "\\"), UInt8(ascii: "x")]
            hex.reserveCapacity(2 + bytes.count * 2)
            for byte in bytes {
                hex.append(digits[Int(byte >> 4)])
                hex.append(digits[Int(byte & 0x0F)])
            }
            return String(decoding: hex, as: UTF8.self)
        }
    }

    // MARK: - Errors

    /// Classifies a failed result by SQLSTATE class: `23` (integrity) is a constraint violation;
    /// connection, shutdown, resource and cancellation classes mean the database cannot serve
    /// right now; everything else is a statement error.
    static func error(of result: OpaquePointer, sql: String, database: String) -> PersistenceError {
        let sqlState = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
        let message = primary ?? trimmed(PQresultErrorMessage(result)) ?? "unknown error"
        return classify(sqlState: sqlState, message: message, sql: sql, database: database)
    }

    static func classify(sqlState: String?, message: String, sql: String?, database: String) -> PersistenceError {
        guard let sqlState else { return .postgres(sqlState: nil, message: message, sql: sql) }
        if sqlState.hasPrefix("23") { return .constraint(message, sql: sql, sqlState: sqlState) }
        if sqlState == "57014" {
            return .unavailable(database: database, reason: "statement timed out or was cancelled", sqlState: sqlState)
        }
        // 08: connection exception; 53: insufficient resources; 57P: operator intervention
        // (shutdown, crash recovery); 58: system error (I/O).
        for outage in ["08", "53", "57P", "58"] where sqlState.hasPrefix(outage) {
            return .unavailable(database: database, reason: message, sqlState: sqlState)
        }
        return .postgres(sqlState: sqlState, message: message, sql: sql)
    }

    /// libpq's connection-level message (`PQerrorMessage`), without its trailing newline.
    static func connectionMessage(_ connection: OpaquePointer?) -> String {
        connection.flatMap { trimmed(PQerrorMessage($0)) } ?? "connection failed"
    }

    private static func trimmed(_ text: UnsafePointer<CChar>?) -> String? {
        guard let text else { return nil }
        var message = String(cString: text)
        while message.last?.isWhitespace == true { message.removeLast() }
        return message.isEmpty ? nil : message
    }
}
