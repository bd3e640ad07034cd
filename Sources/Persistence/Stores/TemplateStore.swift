import Foundation

/// A row of the data database's `templates` table (OpenWA's message templates): text with
/// `{{name}}` placeholders, kept per session under a name unique in that session.
package struct TemplateRecord: Sendable, Equatable {
    package var id: String
    package var sessionId: String
    package var name: String
    package var body: String
    package var header: String?
    package var footer: String?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, sessionId: String, name: String, body: String, header: String?, footer: String?, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.sessionId = sessionId
        self.name = name
        self.body = body
        self.header = header
        self.footer = footer
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The message templates of this deployment, on the data database. A second template with a
/// name its session already uses is refused by the UNIQUE index, as a constraint violation.
package final class SQLTemplateStore: Sendable {
    private let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columns = #""id", "sessionId", "name", "body", "header", "footer", "createdAt", "updatedAt""#

    package func insert(_ record: TemplateRecord) async throws {
        try await database.execute(
            "INSERT INTO templates (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            [
                .text(record.id), .text(record.sessionId), .text(record.name), .text(record.body), SQLValue(record.header),
                SQLValue(record.footer), SQLValue(record.createdAt), SQLValue(record.updatedAt),
            ])
    }

    /// Name, text and `updatedAt`; false when the row is gone.
    @discardableResult
    package func update(_ record: TemplateRecord) async throws -> Bool {
        try await database.execute(
            #"UPDATE templates SET "name" = $3, "body" = $4, "header" = $5, "footer" = $6, "updatedAt" = $7 WHERE "id" = $1 AND "sessionId" = $2"#,
            [
                .text(record.id), .text(record.sessionId), .text(record.name), .text(record.body), SQLValue(record.header),
                SQLValue(record.footer), SQLValue(record.updatedAt),
            ]) > 0
    }

    @discardableResult
    package func delete(sessionId: String, id: String) async throws -> Bool {
        try await database.execute(#"DELETE FROM templates WHERE "id" = $1 AND "sessionId" = $2"#, [.text(id), .text(sessionId)]) > 0
    }

    /// Removes a session's templates (the session is being deleted).
    package func deleteAll(sessionId: String) async throws {
        _ = try await database.execute(#"DELETE FROM templates WHERE "sessionId" = $1"#, [.text(sessionId)])
    }

    package func find(sessionId: String, id: String) async throws -> TemplateRecord? {
        try await database.query(
            "SELECT \(Self.columns) FROM templates WHERE \"id\" = $1 AND \"sessionId\" = $2", [.text(id), .text(sessionId)]
        ).first.map(Self.record)
    }

    package func find(sessionId: String, name: String) async throws -> TemplateRecord? {
        try await database.query(
            "SELECT \(Self.columns) FROM templates WHERE \"name\" = $1 AND \"sessionId\" = $2", [.text(name), .text(sessionId)]
        ).first.map(Self.record)
    }

    /// A session's templates, newest first.
    package func list(sessionId: String) async throws -> [TemplateRecord] {
        try await database.query(
            "SELECT \(Self.columns) FROM templates WHERE \"sessionId\" = $1 ORDER BY \"createdAt\" DESC, \"id\" DESC",
            [.text(sessionId)]
        ).map(Self.record)
    }

    private static func record(_ row: SQLRow) throws -> TemplateRecord {
        TemplateRecord(
            id: try row.requiredString("id"), sessionId: try row.requiredString("sessionId"), name: try row.requiredString("name"),
            body: try row.requiredString("body"), header: row.string("header"), footer: row.string("footer"),
            createdAt: try row.requiredDate("createdAt"), updatedAt: try row.requiredDate("updatedAt"))
    }
}
