internal import CSQLite3

/// Facts about the linked SQLite library, for `openwa version`.
package enum SQLiteLibrary {
    package static var version: String { String(cString: sqlite3_libversion()) }
}
