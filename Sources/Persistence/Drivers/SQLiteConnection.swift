internal import CSQLite3

/// A synchronous wrapper over one `sqlite3*` handle and its prepared statements.
///
/// Not thread-safe and deliberately not `Sendable`: it is opened with `SQLITE_OPEN_NOMUTEX`
/// (SQLite's own locking switched off), so its owner must confine it to one serial worker lane.
/// `SQLiteDatabase` does that; nothing else should hold one.
final class SQLiteConnection {
    /// How the file is opened.
    enum Mode {
        case readWrite
        case readOnly
    }

    /// Prepared statements kept per connection. Statement texts are constants in the code, so the
    /// cache stays small; the cap only guards against SQL built at run time (an `IN` list, say).
    private static let statementCacheLimit = 128

    /// The logical database name, for errors.
    let databaseName: String
    private var handle: OpaquePointer?
    /// Keyed by the caller's original (`$N`) text, so the placeholder rewrite runs once per text.
    private var statements: [String: OpaquePointer] = [:]

    /// Opens (and with `.readWrite` creates) the file and applies the connection settings.
    /// The parent directory must already exist.
    init(path: String, databaseName: String, mode: Mode) throws {
        self.databaseName = databaseName
        var flags = SQLITE_OPEN_NOMUTEX
        switch mode {
        case .readWrite: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        case .readOnly: flags |= SQLITE_OPEN_READONLY
        }
        var opened: OpaquePointer?
        let code = sqlite3_open_v2(path, &opened, flags, nil)
        // SQLite hands back a handle even when opening fails; keeping it here lets `close()`
        // remain the only place that frees one.
        handle = opened
        guard code == SQLITE_OK, let opened else {
            let reason = opened.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            close()
            throw PersistenceError.unavailable(
                database: databaseName, reason: "cannot open \(path): \(reason)", resultCode: code)
        }
        // Extended codes tell a UNIQUE violation from other constraint failures in messages.
        sqlite3_extended_result_codes(opened, 1)
        do {
            try configure(mode)
        } catch {
            close()
            throw error
        }
    }

    deinit {
        close()
    }

    private func configure(_ mode: Mode) throws {
        // The busy timeout goes first so that switching the journal mode waits out another
        // process's lock instead of failing at once.
        try executeScript("PRAGMA busy_timeout = 5000")
        if mode == .readWrite {
            let journal = try query("PRAGMA journal_mode = WAL", []).first?.string("journal_mode")
            guard journal?.lowercased() == "wal" else {
                throw PersistenceError.unavailable(
                    database: databaseName, reason: "WAL journal mode refused (got \(journal ?? "nothing"))")
            }
            // NORMAL is durable across process crashes in WAL mode; only an OS crash can lose the
            // last commits, which is the trade every WAL deployment makes.
            try executeScript("PRAGMA synchronous = NORMAL")
            // The automatic checkpoint runs inside a commit on the writer's lane and syncs the
            // WAL first, so its cost is the WAL's size: at SQLite's default (1,000 pages, ~4 MB)
            // that is a 4-8 ms stall several times a second under a steady message stream, and
            // far more when other I/O queues on the disk. A quarter of it makes each stall about
            // 2 ms and spends no more time checkpointing in all (perf/message-bench.py, sys
            // traces of fdatasync: p90 per checkpoint 3 ms against 7-40 ms).
            try executeScript("PRAGMA wal_autocheckpoint = 256")
        }
        try executeScript("PRAGMA foreign_keys = ON")
    }

    /// True while the handle is open.
    var isOpen: Bool { handle != nil }

    /// True while an explicit transaction is open on this connection.
    var isInTransaction: Bool {
        guard let handle else { return false }
        return sqlite3_get_autocommit(handle) == 0
    }

    /// Runs one statement and returns all of its rows.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        try run(sql, binds, collectingRows: true)
    }

    /// Runs one statement, discarding any rows, and returns how many rows it inserted, updated or
    /// deleted (SQLite's `changes()`; meaningless for statements that are not DML).
    @discardableResult
    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        _ = try run(sql, binds, collectingRows: false)
        guard let handle else { return 0 }
        return Int(sqlite3_changes64(handle))
    }

    /// Runs several `;`-separated statements without binds, as migrations need.
    func executeScript(_ sql: String) throws {
        let handle = try openHandle()
        var errorMessage: UnsafeMutablePointer<CChar>?
        let code = sqlite3_exec(handle, sql, nil, nil, &errorMessage)
        defer { sqlite3_free(errorMessage) }
        guard code == SQLITE_OK else {
            throw failure(code, sql: sql, message: errorMessage.map { String(cString: $0) })
        }
    }

    /// Finalizes every statement and frees the handle; the only place the handle is freed.
    /// Safe to call more than once.
    func close() {
        guard let handle else { return }
        for statement in statements.values {
            sqlite3_finalize(statement)
        }
        statements.removeAll()
        // close_v2 never leaves a half-closed handle behind, even if a statement were still live.
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    // MARK: - Statements

    private func openHandle() throws -> OpaquePointer {
        guard let handle else {
            throw PersistenceError.unavailable(database: databaseName, reason: "the database is closed")
        }
        return handle
    }

    private func run(_ sql: String, _ binds: [SQLValue], collectingRows: Bool) throws -> [SQLRow] {
        let statement = try prepared(sql)
        // Reset even on failure, so the cached statement is reusable and holds no read lock.
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        try SQLiteBinding.bind(binds, to: statement, sql: sql) { self.failure($0, sql: sql) }

        var rows: [SQLRow] = []
        var columnIndex: [String: Int]?
        while true {
            let code = sqlite3_step(statement)
            if code == SQLITE_DONE { return rows }
            guard code == SQLITE_ROW else { throw failure(code, sql: sql) }
            guard collectingRows else { continue }
            let count = sqlite3_column_count(statement)
            let index = columnIndex ?? SQLiteBinding.columnIndex(of: statement, count: count)
            columnIndex = index
            rows.append(SQLRow(columnIndex: index, values: SQLiteBinding.values(of: statement, count: count)))
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        let handle = try openHandle()
        if let cached = statements[sql] { return cached }
        if statements.count >= Self.statementCacheLimit {
            for statement in statements.values { sqlite3_finalize(statement) }
            statements.removeAll()
        }

        var statement: OpaquePointer?
        var hasTrailingStatement = false
        let code = SQLitePlaceholders.rewrite(sql).withCString { text -> Int32 in
            var tail: UnsafePointer<CChar>?
            let code = sqlite3_prepare_v3(
                handle, text, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, &tail)
            if code == SQLITE_OK, let tail { hasTrailingStatement = Self.containsStatement(tail) }
            return code
        }
        guard code == SQLITE_OK else { throw failure(code, sql: sql) }
        guard let statement else {
            throw PersistenceError.sqlite(code: SQLITE_MISUSE, message: "empty statement", sql: sql)
        }
        // Preparing compiles only the first statement; silently dropping the rest would hide bugs.
        guard !hasTrailingStatement else {
            sqlite3_finalize(statement)
            throw PersistenceError.sqlite(
                code: SQLITE_MISUSE, message: "one statement per call; use executeScript for several", sql: sql)
        }
        statements[sql] = statement
        return statement
    }

    private static func containsStatement(_ tail: UnsafePointer<CChar>) -> Bool {
        var cursor = tail
        while cursor.pointee != 0 {
            switch UInt8(bitPattern: cursor.pointee) {
            case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: ";"):
                cursor += 1
            default:
                return true
            }
        }
        return false
    }

    // MARK: - Errors

    /// Turns a SQLite result code into the module's error.
    ///
    /// Storage-level failures become `unavailable` (a 503 for the API, a failed readiness check),
    /// constraint failures become `constraint` (a 409), and the rest stay SQL errors (a bug).
    private func failure(_ code: Int32, sql: String?, message: String? = nil) -> PersistenceError {
        let text =
            message ?? handle.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
        switch code & 0xFF {
        case SQLITE_CONSTRAINT:
            return .constraint(text, sql: sql, resultCode: code)
        case SQLITE_BUSY, SQLITE_CANTOPEN, SQLITE_IOERR, SQLITE_FULL, SQLITE_CORRUPT, SQLITE_NOTADB, SQLITE_READONLY:
            return .unavailable(database: databaseName, reason: text, resultCode: code)
        default:
            return .sqlite(code: code, message: text, sql: sql)
        }
    }
}
