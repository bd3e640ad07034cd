import Foundation

/// A row of the data database's `message_batches` (OpenWA's bulk sends; its one snake_case
/// table). `messages`, `options`, `progress` and `results` are JSON text the engines layer
/// writes and reads. `currentIndex` is the next item to start: it is advanced before an item
/// goes out, so an item counted there without a result is one whose send a crash interrupted.
package struct BatchRecord: Sendable, Equatable {
    package var id: String
    package var batchId: String
    package var sessionId: String
    package var status: String
    package var messages: String
    package var options: String
    package var progress: String
    package var results: String
    package var currentIndex: Int
    package var createdAt: Date
    package var updatedAt: Date
    package var startedAt: Date?
    package var completedAt: Date?

    package init(
        id: String, batchId: String, sessionId: String, status: String, messages: String, options: String, progress: String,
        results: String, currentIndex: Int, createdAt: Date, updatedAt: Date, startedAt: Date? = nil, completedAt: Date? = nil
    ) {
        self.id = id
        self.batchId = batchId
        self.sessionId = sessionId
        self.status = status
        self.messages = messages
        self.options = options
        self.progress = progress
        self.results = results
        self.currentIndex = currentIndex
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.startedAt = startedAt
        self.completedAt = completedAt
    }
}

/// The bulk-send batches of this deployment, on the data database. A second batch with an id
/// its session already used is refused by the UNIQUE index, as a constraint violation.
package final class SQLBatchStore: Sendable {
    private let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columns = """
        "id", "batch_id", "session_id", "status", "messages", "options", "progress", "results", "current_index", \
        "created_at", "updated_at", "started_at", "completed_at"
        """

    package func insert(_ record: BatchRecord) async throws {
        try await database.execute(
            "INSERT INTO message_batches (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            [
                .text(record.id), .text(record.batchId), .text(record.sessionId), .text(record.status), .text(record.messages),
                .text(record.options), .text(record.progress), .text(record.results), .integer(Int64(record.currentIndex)),
                SQLValue(record.createdAt), SQLValue(record.updatedAt), SQLValue(record.startedAt), SQLValue(record.completedAt),
            ])
    }

    /// Writes the progress of a batch: status, counters, results, next index and stamps.
    @discardableResult
    package func update(_ record: BatchRecord) async throws -> Bool {
        try await database.execute(
            """
            UPDATE message_batches SET "status" = $2, "progress" = $3, "results" = $4, "current_index" = $5, "updated_at" = $6, \
            "started_at" = $7, "completed_at" = $8 WHERE "id" = $1
            """,
            [
                .text(record.id), .text(record.status), .text(record.progress), .text(record.results),
                .integer(Int64(record.currentIndex)), SQLValue(record.updatedAt), SQLValue(record.startedAt),
                SQLValue(record.completedAt),
            ]) > 0
    }

    package func find(sessionId: String, batchId: String) async throws -> BatchRecord? {
        try await database.query(
            "SELECT \(Self.columns) FROM message_batches WHERE \"session_id\" = $1 AND \"batch_id\" = $2",
            [.text(sessionId), .text(batchId)]
        ).first.map(Self.record)
    }

    /// Batches not finished yet (pending or processing), oldest first: what a boot resumes.
    package func unfinished() async throws -> [BatchRecord] {
        try await database.query(
            "SELECT \(Self.columns) FROM message_batches WHERE \"status\" IN ('pending', 'processing') ORDER BY \"created_at\", \"id\"", []
        ).map(Self.record)
    }

    /// Removes a session's batches (the session is being deleted).
    package func deleteAll(sessionId: String) async throws {
        _ = try await database.execute(#"DELETE FROM message_batches WHERE "session_id" = $1"#, [.text(sessionId)])
    }

    private static func record(_ row: SQLRow) throws -> BatchRecord {
        BatchRecord(
            id: try row.requiredString("id"), batchId: try row.requiredString("batch_id"),
            sessionId: try row.requiredString("session_id"), status: try row.requiredString("status"),
            messages: try row.requiredString("messages"), options: try row.requiredString("options"),
            progress: try row.requiredString("progress"), results: try row.requiredString("results"),
            currentIndex: try row.requiredInt("current_index"), createdAt: try row.requiredDate("created_at"),
            updatedAt: try row.requiredDate("updated_at"), startedAt: try row.optionalDate("started_at"),
            completedAt: try row.optionalDate("completed_at"))
    }
}
