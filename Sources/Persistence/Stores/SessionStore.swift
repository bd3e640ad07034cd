import Foundation

/// A row of the data database's `sessions` table (OpenWA's entity).
package struct SessionRecord: Sendable, Equatable {
    package var id: String
    package var name: String
    package var status: String
    package var phone: String?
    package var pushName: String?
    /// A JSON object; unknown keys are kept as OpenWA does.
    package var config: String
    package var proxyUrl: String?
    package var connectedAt: Date?
    package var lastActiveAt: Date?
    /// "started" or "stopped": what the operator last asked for, restored at boot.
    package var desiredState: String?
    package var createdAt: Date
    package var updatedAt: Date

    package init(
        id: String, name: String, status: String = "created", phone: String? = nil, pushName: String? = nil,
        config: String = "{}", proxyUrl: String? = nil, connectedAt: Date? = nil, lastActiveAt: Date? = nil,
        desiredState: String? = nil, createdAt: Date, updatedAt: Date
    ) {
        self.id = id
        self.name = name
        self.status = status
        self.phone = phone
        self.pushName = pushName
        self.config = config
        self.proxyUrl = proxyUrl
        self.connectedAt = connectedAt
        self.lastActiveAt = lastActiveAt
        self.desiredState = desiredState
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }
}

/// The sessions of this deployment.
package protocol SessionStore: Sendable {
    /// Throws a constraint error when the name is taken.
    func insert(_ record: SessionRecord) async throws
    func find(id: String) async throws -> SessionRecord?
    /// Newest first; `name` filters on the exact name.
    func list(limit: Int, offset: Int, name: String?) async throws -> [SessionRecord]
    /// Sessions per status, counted by the database (the stats routes poll this).
    func countByStatus() async throws -> [String: Int]
    /// Writes every column but `id` and `createdAt`; false when the row is gone.
    @discardableResult
    func update(_ record: SessionRecord) async throws -> Bool
    @discardableResult
    func delete(id: String) async throws -> Bool
}

/// `SessionStore` over a data database migrated with `DataSchema.migrations`.
package final class SQLSessionStore: SessionStore {
    private let database: any SQLDatabase

    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columns = """
        "id", "name", "status", "phone", "pushName", "config", "proxyUrl", "connectedAt", "lastActiveAt", \
        "desiredState", "createdAt", "updatedAt"
        """

    package func insert(_ record: SessionRecord) async throws {
        try await database.execute(
            "INSERT INTO sessions (\(Self.columns)) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
            Self.values(record))
    }

    package func find(id: String) async throws -> SessionRecord? {
        try await database.query("SELECT \(Self.columns) FROM sessions WHERE \"id\" = $1", [.text(id)]).first.map(Self.record)
    }

    package func countByStatus() async throws -> [String: Int] {
        let rows = try await database.query(#"SELECT "status", COUNT(*) AS n FROM sessions GROUP BY "status""#, [])
        return Dictionary(uniqueKeysWithValues: rows.compactMap { row in row.string("status").map { ($0, Int(row.int("n") ?? 0)) } })
    }

    package func list(limit: Int, offset: Int, name: String?) async throws -> [SessionRecord] {
        let page: [SQLValue] = [.integer(Int64(max(0, limit))), .integer(Int64(max(0, offset)))]
        let rows: [SQLRow]
        if let name {
            rows = try await database.query(
                "SELECT \(Self.columns) FROM sessions WHERE \"name\" = $3 ORDER BY \"createdAt\" DESC, \"id\" LIMIT $1 OFFSET $2",
                page + [.text(name)])
        } else {
            rows = try await database.query(
                "SELECT \(Self.columns) FROM sessions ORDER BY \"createdAt\" DESC, \"id\" LIMIT $1 OFFSET $2", page)
        }
        return try rows.map(Self.record)
    }

    package func update(_ record: SessionRecord) async throws -> Bool {
        let changed = try await database.execute(
            """
            UPDATE sessions SET "name" = $2, "status" = $3, "phone" = $4, "pushName" = $5, "config" = $6, \
            "proxyUrl" = $7, "connectedAt" = $8, "lastActiveAt" = $9, "desiredState" = $10, "updatedAt" = $11 \
            WHERE "id" = $1
            """,
            // Every parameter must appear in the statement: PostgreSQL cannot type an unused one.
            Array(Self.values(record).prefix(10)) + [SQLValue(record.updatedAt)])
        return changed > 0
    }

    package func delete(id: String) async throws -> Bool {
        try await database.execute("DELETE FROM sessions WHERE \"id\" = $1", [.text(id)]) > 0
    }

    private static func values(_ record: SessionRecord) -> [SQLValue] {
        [
            .text(record.id), .text(record.name), .text(record.status), SQLValue(record.phone), SQLValue(record.pushName),
            .text(record.config), SQLValue(record.proxyUrl), SQLValue(record.connectedAt), SQLValue(record.lastActiveAt),
            SQLValue(record.desiredState), SQLValue(record.createdAt), SQLValue(record.updatedAt),
        ]
    }

    private static func record(_ row: SQLRow) throws -> SessionRecord {
        SessionRecord(
            id: try row.requiredString("id"), name: try row.requiredString("name"), status: try row.requiredString("status"),
            phone: row.string("phone"), pushName: row.string("pushName"), config: row.string("config") ?? "{}",
            proxyUrl: row.string("proxyUrl"), connectedAt: try row.optionalDate("connectedAt"),
            lastActiveAt: try row.optionalDate("lastActiveAt"), desiredState: row.string("desiredState"),
            createdAt: try row.requiredDate("createdAt"), updatedAt: try row.requiredDate("updatedAt"))
    }
}
