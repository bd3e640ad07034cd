import Foundation
import Reactor

/// `AuthStateStore` on the data database's `auth_state` table (DataSchema v3), SQLite or
/// PostgreSQL. Every batch is one transaction, so a key set is either fully written or not at all.
package struct SQLAuthStateStore: AuthStateStore {
    private let database: any SQLDatabase

    /// A store on `database`, which must be migrated with `DataSchema.migrations`.
    package init(database: any SQLDatabase) {
        self.database = database
    }

    package func load(sessionID: String) async throws -> [String: [UInt8]] {
        let rows = try await database.query(
            #"SELECT "key", "value" FROM auth_state WHERE "sessionId" = $1"#, [.text(sessionID)])
        var values: [String: [UInt8]] = [:]
        for row in rows {
            guard let key = row.string("key") else { continue }
            values[key] = row.bytes("value") ?? []
        }
        return values
    }

    /// Compared by `substr`, not a range or `LIKE`: both databases agree on it whatever the
    /// collation, and only the matching rows leave the database.
    package func load(sessionID: String, prefix: String) async throws -> [String: [UInt8]] {
        let rows = try await database.query(
            #"SELECT "key", "value" FROM auth_state WHERE "sessionId" = $1 AND substr("key", 1, $2) = $3"#,
            [.text(sessionID), .integer(Int64(prefix.count)), .text(prefix)])
        var values: [String: [UInt8]] = [:]
        for row in rows {
            guard let key = row.string("key") else { continue }
            values[key] = row.bytes("value") ?? []
        }
        return values
    }

    package func value(sessionID: String, key: String) async throws -> [UInt8]? {
        let rows = try await database.query(
            #"SELECT "value" FROM auth_state WHERE "sessionId" = $1 AND "key" = $2"#, [.text(sessionID), .text(key)])
        guard let row = rows.first else { return nil }
        return row.bytes("value") ?? []
    }

    package func apply(sessionID: String, changes: [String: [UInt8]?]) async throws {
        guard !changes.isEmpty else { return }
        let now = ISOTimestamp.format(Date())
        // Sorted, so two batches touching the same keys lock them in the same order (PostgreSQL).
        let ordered = changes.sorted { $0.key < $1.key }
        try await database.withTransaction { transaction in
            for (key, value) in ordered {
                if let value {
                    try await transaction.execute(
                        """
                        INSERT INTO auth_state ("sessionId", "key", "value", "updatedAt") VALUES ($1, $2, $3, $4) \
                        ON CONFLICT ("sessionId", "key") DO UPDATE SET "value" = excluded."value", "updatedAt" = excluded."updatedAt"
                        """,
                        [.text(sessionID), .text(key), .blob(value), .text(now)])
                } else {
                    try await transaction.execute(
                        #"DELETE FROM auth_state WHERE "sessionId" = $1 AND "key" = $2"#, [.text(sessionID), .text(key)])
                }
            }
        }
    }

    package func wipe(sessionID: String) async throws {
        try await database.execute(#"DELETE FROM auth_state WHERE "sessionId" = $1"#, [.text(sessionID)])
    }
}
