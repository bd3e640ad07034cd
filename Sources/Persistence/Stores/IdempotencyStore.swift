import Foundation

/// One `Idempotency-Key` of a session's send (OpenWA's `send_idempotency_keys`).
package struct IdempotencyRecord: Sendable, Equatable {
    /// `pending` while the send runs, `done` with the response to replay, `unknown` when the
    /// send failed after the engine was called (it may or may not have gone out).
    package var state: String
    package var route: String
    package var bodyHash: String
    package var statusCode: Int?
    package var response: String?
    package var createdAt: Date

    package init(state: String, route: String, bodyHash: String, statusCode: Int? = nil, response: String? = nil, createdAt: Date) {
        self.state = state
        self.route = route
        self.bodyHash = bodyHash
        self.statusCode = statusCode
        self.response = response
        self.createdAt = createdAt
    }
}

/// The `send_idempotency_keys` table of the data database.
package struct SQLIdempotencyStore: Sendable {
    let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    /// Claims `key` for a new send; false when the session already holds it.
    package func claim(sessionID: String, key: String, record: IdempotencyRecord) async throws -> Bool {
        try await database.execute(
            """
            INSERT INTO send_idempotency_keys ("sessionId", "key", "state", "route", "bodyHash", "createdAt")
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT ("sessionId", "key") DO NOTHING
            """,
            [.text(sessionID), .text(key), .text(record.state), .text(record.route), .text(record.bodyHash), SQLValue(record.createdAt)]
        ) > 0
    }

    package func find(sessionID: String, key: String) async throws -> IdempotencyRecord? {
        try await database.query(
            #"SELECT "state", "route", "bodyHash", "statusCode", "response", "createdAt" FROM send_idempotency_keys WHERE "sessionId" = $1 AND "key" = $2"#,
            [.text(sessionID), .text(key)]
        ).first.map { row in
            IdempotencyRecord(
                state: try row.requiredString("state"), route: try row.requiredString("route"),
                bodyHash: try row.requiredString("bodyHash"), statusCode: row.int("statusCode").map { Int($0) },
                response: row.string("response"), createdAt: try row.requiredDate("createdAt"))
        }
    }

    /// Records how the send ended (`done` with its response, or `unknown`).
    package func finish(sessionID: String, key: String, state: String, statusCode: Int?, response: String?) async throws {
        try await database.execute(
            #"UPDATE send_idempotency_keys SET "state" = $3, "statusCode" = $4, "response" = $5 WHERE "sessionId" = $1 AND "key" = $2"#,
            [.text(sessionID), .text(key), .text(state), statusCode.map { .integer(Int64($0)) } ?? .null, SQLValue(response)])
    }

    /// Frees a key (a send refused before the engine was called, or an expired key).
    package func release(sessionID: String, key: String) async throws {
        try await database.execute(
            #"DELETE FROM send_idempotency_keys WHERE "sessionId" = $1 AND "key" = $2"#, [.text(sessionID), .text(key)])
    }

    /// Drops keys older than `date` (they are held for 24 hours).
    @discardableResult
    package func purge(before date: Date) async throws -> Int {
        try await database.execute(#"DELETE FROM send_idempotency_keys WHERE "createdAt" < $1"#, [SQLValue(date)])
    }
}
