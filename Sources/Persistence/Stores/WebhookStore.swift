import Foundation

/// A row of the data database's `webhooks` table (OpenWA's entity). `events`, `headers` and
/// `filters` are kept as JSON text; the engines layer gives them meaning.
package struct WebhookRecord: Sendable, Equatable {
    package var id: String
    package var sessionId: String
    package var url: String
    package var events: String
    /// Write-only in the API: never returned.
    package var secret: String?
    package var headers: String?
    package var filters: String?
    package var active: Bool
    package var retryCount: Int
    package var lastTriggeredAt: Date?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, sessionId: String, url: String, events: String, secret: String?, headers: String?, filters: String?,
        active: Bool, retryCount: Int, lastTriggeredAt: Date? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.sessionId = sessionId
        self.url = url
        self.events = events
        self.secret = secret
        self.headers = headers
        self.filters = filters
        self.active = active
        self.retryCount = retryCount
        self.lastTriggeredAt = lastTriggeredAt
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The webhooks of this deployment, on the data database.
package final class SQLWebhookStore: Sendable {
    private let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columns = """
        "id", "sessionId", "url", "events", "secret", "headers", "filters", "active", "retryCount", "lastTriggeredAt", \
        "createdAt", "updatedAt"
        """

    package func insert(_ record: WebhookRecord) async throws {
        try await database.execute(
            "INSERT INTO webhooks (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            Self.values(record))
    }

    /// Every column but `id`, `sessionId` and `createdAt`; false when the row is gone.
    @discardableResult
    package func update(_ record: WebhookRecord) async throws -> Bool {
        try await database.execute(
            """
            UPDATE webhooks SET "url" = $2, "events" = $3, "secret" = $4, "headers" = $5, "filters" = $6, "active" = $7, \
            "retryCount" = $8, "lastTriggeredAt" = $9, "updatedAt" = $10 WHERE "id" = $1
            """,
            [
                .text(record.id), .text(record.url), .text(record.events), SQLValue(record.secret), SQLValue(record.headers),
                SQLValue(record.filters), SQLValue(record.active), .integer(Int64(record.retryCount)),
                SQLValue(record.lastTriggeredAt), SQLValue(record.updatedAt),
            ]) > 0
    }

    @discardableResult
    package func delete(id: String) async throws -> Bool {
        try await database.execute(#"DELETE FROM webhooks WHERE "id" = $1"#, [.text(id)]) > 0
    }

    /// Removes a session's webhooks (the session is being deleted).
    package func deleteAll(sessionId: String) async throws {
        _ = try await database.execute(#"DELETE FROM webhooks WHERE "sessionId" = $1"#, [.text(sessionId)])
    }

    package func find(id: String) async throws -> WebhookRecord? {
        try await database.query("SELECT \(Self.columns) FROM webhooks WHERE \"id\" = $1", [.text(id)]).first.map(Self.record)
    }

    /// A session's webhooks, newest first.
    package func list(sessionId: String) async throws -> [WebhookRecord] {
        try await database.query(
            "SELECT \(Self.columns) FROM webhooks WHERE \"sessionId\" = $1 ORDER BY \"createdAt\" DESC, \"id\"",
            [.text(sessionId)]
        ).map(Self.record)
    }

    /// Every webhook, oldest first (the dispatcher's cache is loaded from this at boot).
    package func all() async throws -> [WebhookRecord] {
        try await database.query("SELECT \(Self.columns) FROM webhooks ORDER BY \"createdAt\", \"id\"", []).map(Self.record)
    }

    private static func values(_ record: WebhookRecord) -> [SQLValue] {
        [
            .text(record.id), .text(record.sessionId), .text(record.url), .text(record.events), SQLValue(record.secret),
            SQLValue(record.headers), SQLValue(record.filters), SQLValue(record.active), .integer(Int64(record.retryCount)),
            SQLValue(record.lastTriggeredAt), SQLValue(record.createdAt), SQLValue(record.updatedAt),
        ]
    }

    private static func record(_ row: SQLRow) throws -> WebhookRecord {
        WebhookRecord(
            id: try row.requiredString("id"), sessionId: try row.requiredString("sessionId"), url: try row.requiredString("url"),
            events: try row.requiredString("events"), secret: row.string("secret"), headers: row.string("headers"),
            filters: row.string("filters"), active: try row.requiredBool("active"), retryCount: try row.requiredInt("retryCount"),
            lastTriggeredAt: try row.optionalDate("lastTriggeredAt"), createdAt: try row.requiredDate("createdAt"),
            updatedAt: try row.requiredDate("updatedAt"))
    }
}
