/// The one error type of the persistence layer.
///
/// A struct over a private code (Hummingbird's pattern) so new kinds of failure can be added
/// without breaking anyone's `switch`. Callers classify it through the `is…` properties: the API
/// layer maps `isConstraintViolation` to 409, `isNotFound` to 404 and `isUnavailable` to 503;
/// everything else is a 500.
///
/// Messages never contain bound values, only SQL text and the driver's own message, so the error
/// can be logged without leaking key hashes or message bodies.
package struct PersistenceError: Error, Sendable, CustomStringConvertible {
    private enum Code: Sendable {
        case sqlite
        case postgres
        case unavailable
        case constraint
        case notFound
        case decoding
        case incompatibleSchema
        case redis
        case storage
    }

    private let code: Code

    /// What went wrong, in the driver's words or ours.
    package let message: String

    /// The logical database ("main" or "data") when the failure concerns the database as a whole.
    package let database: String?

    /// The statement that failed, when there was one.
    package let sql: String?

    /// The driver's own result code (SQLite's extended result code), when it gave one.
    package let resultCode: Int32?

    /// PostgreSQL's five-character SQLSTATE (`23505` for a unique violation), when it gave one.
    package let sqlState: String?

    private init(
        _ code: Code, message: String, database: String? = nil, sql: String? = nil, resultCode: Int32? = nil,
        sqlState: String? = nil
    ) {
        self.code = code
        self.message = message
        self.database = database
        self.sql = sql
        self.resultCode = resultCode
        self.sqlState = sqlState
    }

    /// A driver failure that is neither a constraint violation nor an outage: usually a bug in a
    /// statement (syntax, a missing column, a wrong number of binds).
    package static func sqlite(code: Int32, message: String, sql: String?) -> Self {
        Self(.sqlite, message: message, sql: sql, resultCode: code)
    }

    /// A PostgreSQL error that is neither a constraint violation nor an outage: usually a bug in
    /// a statement (syntax, a missing column, a type the server could not infer).
    package static func postgres(sqlState: String?, message: String, sql: String?) -> Self {
        Self(.postgres, message: message, sql: sql, sqlState: sqlState)
    }

    /// The database cannot serve requests: it could not be opened or reached, it was closed, its
    /// storage failed, it stayed locked past the busy timeout, or a statement timed out.
    package static func unavailable(
        database: String, reason: String, resultCode: Int32? = nil, sqlState: String? = nil
    ) -> Self {
        Self(.unavailable, message: reason, database: database, resultCode: resultCode, sqlState: sqlState)
    }

    /// A constraint rejected the write, typically a UNIQUE column that already holds the value.
    package static func constraint(
        _ message: String, sql: String? = nil, resultCode: Int32? = nil, sqlState: String? = nil
    ) -> Self {
        Self(.constraint, message: message, sql: sql, resultCode: resultCode, sqlState: sqlState)
    }

    /// The row the operation targets does not exist.
    package static var notFound: Self { Self(.notFound, message: "row not found") }

    /// A row was read but a column held something the record type cannot represent.
    package static func decoding(_ message: String) -> Self { Self(.decoding, message: message) }

    /// The database was migrated by a newer build than this one; running on it could corrupt data.
    package static func incompatibleSchema(database: String, found: Int, known: Int) -> Self {
        Self(
            .incompatibleSchema,
            message: "schema version \(found) is newer than the newest this build knows (\(known))",
            database: database)
    }

    /// Redis answered a command with an error reply (`ERR …`, `WRONGTYPE …`): the command was
    /// wrong, the server is fine. Outages and timeouts are `unavailable(database: "redis", …)`.
    package static func redis(_ message: String) -> Self { Self(.redis, message: message, database: "redis") }

    /// The media storage (local files or S3) refused or failed an operation; `status` is the
    /// HTTP status of an S3 answer when there was one.
    package static func storage(_ message: String, status: Int? = nil) -> Self {
        Self(.storage, message: message, database: "storage", resultCode: status.map { Int32($0) })
    }

    /// True for a Redis error reply.
    package var isRedisError: Bool { code == .redis }

    /// True for a media storage failure.
    package var isStorageFailure: Bool { code == .storage }

    /// True when a UNIQUE (or other) constraint refused the write; callers map it to 409 Conflict.
    package var isConstraintViolation: Bool { code == .constraint }

    /// True when the database could not serve the request at all; callers map it to 503.
    package var isUnavailable: Bool { code == .unavailable }

    /// True when the targeted row does not exist.
    package var isNotFound: Bool { code == .notFound }

    /// True when a stored value could not be decoded into its record type.
    package var isDecodingFailure: Bool { code == .decoding }

    /// True when the database schema is newer than this build.
    package var isIncompatibleSchema: Bool { code == .incompatibleSchema }

    /// The kind, database, message, result code and statement, for logs.
    package var description: String {
        var text: String
        switch code {
        case .sqlite, .postgres: text = "SQL error"
        case .unavailable: text = "database unavailable"
        case .constraint: text = "constraint violation"
        case .notFound: text = "not found"
        case .decoding: text = "decoding failed"
        case .incompatibleSchema: text = "incompatible schema"
        case .redis: text = "Redis error"
        case .storage: text = "storage failure"
        }
        if let database { text += " [\(database)]" }
        text += ": \(message)"
        if let resultCode { text += " (code \(resultCode))" }
        if let sqlState { text += " (SQLSTATE \(sqlState))" }
        if let sql { text += " in: \(sql)" }
        return text
    }
}
