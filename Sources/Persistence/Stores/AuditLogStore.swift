import Foundation

/// One audit-log entry: who did what to which session, from where, and how it ended.
package struct AuditEntry: Sendable, Equatable {
    /// A UUID string.
    package var id: String
    /// What happened, e.g. `api_key_created`, `session_logged_out`.
    package var action: String
    /// "info", "warn" or "error".
    package var severity: String
    /// The key that made the request, if any.
    package var apiKeyId: String?
    /// Copied at write time so the entry stays readable after the key is deleted.
    package var apiKeyName: String?
    /// The session acted on, if any.
    package var sessionId: String?
    /// Copied at write time so the entry stays readable after the session is deleted.
    package var sessionName: String?
    /// The client address as resolved through the trusted proxies.
    package var ipAddress: String?
    /// The client's User-Agent header.
    package var userAgent: String?
    /// The HTTP method of the request that caused the entry.
    package var method: String?
    /// The request path (without the query string, which may carry secrets).
    package var path: String?
    /// The HTTP status the request ended with.
    package var statusCode: Int?
    /// A JSON object with action-specific detail, stored as text.
    package var metadata: String?
    /// What failed, for entries about failures.
    package var errorMessage: String?
    /// When it happened; `list` orders by it and `prune` cuts by it.
    package var createdAt: Date

    /// Creates an entry; everything but the action and time is optional.
    package init(
        id: String, action: String, severity: String = "info", apiKeyId: String? = nil, apiKeyName: String? = nil,
        sessionId: String? = nil, sessionName: String? = nil, ipAddress: String? = nil, userAgent: String? = nil,
        method: String? = nil, path: String? = nil, statusCode: Int? = nil, metadata: String? = nil,
        errorMessage: String? = nil, createdAt: Date
    ) {
        self.id = id
        self.action = action
        self.severity = severity
        self.apiKeyId = apiKeyId
        self.apiKeyName = apiKeyName
        self.sessionId = sessionId
        self.sessionName = sessionName
        self.ipAddress = ipAddress
        self.userAgent = userAgent
        self.method = method
        self.path = path
        self.statusCode = statusCode
        self.metadata = metadata
        self.errorMessage = errorMessage
        self.createdAt = createdAt
    }
}

/// Which audit entries to list or count; every field narrows the set, nil means "any".
package struct AuditLogFilter: Sendable, Equatable {
    package var action: String?
    package var severity: String?
    package var sessionId: String?
    package var apiKeyId: String?
    /// Only entries about one of these sessions (a session-scoped key's view); entries about
    /// no session are then excluded too. Nil means unrestricted; an empty list matches nothing.
    package var sessionIn: [String]?

    package init(
        action: String? = nil, severity: String? = nil, sessionId: String? = nil, apiKeyId: String? = nil,
        sessionIn: [String]? = nil
    ) {
        self.action = action
        self.severity = severity
        self.sessionId = sessionId
        self.apiKeyId = apiKeyId
        self.sessionIn = sessionIn
    }
}

/// Storage of the audit log in the main database.
package protocol AuditLogStore: Sendable {
    /// Records an entry.
    func append(_ entry: AuditEntry) async throws

    /// Entries matching `filter`, newest first. A negative limit or offset counts as 0.
    func list(_ filter: AuditLogFilter, limit: Int, offset: Int) async throws -> [AuditEntry]

    /// How many entries `list` can page through for the same filter.
    func count(_ filter: AuditLogFilter) async throws -> Int

    /// Deletes entries created before `date` (retention); returns how many went.
    func prune(olderThan date: Date) async throws -> Int
}

extension AuditLogStore {
    /// Entries newest first, optionally only one action.
    package func list(limit: Int, offset: Int, action: String?) async throws -> [AuditEntry] {
        try await list(AuditLogFilter(action: action), limit: limit, offset: offset)
    }

    /// How many entries have `action` (all when nil).
    package func count(action: String?) async throws -> Int {
        try await count(AuditLogFilter(action: action))
    }
}

/// `AuditLogStore` over any `SQLDatabase`, in portable SQL.
package final class SQLAuditLogStore: AuditLogStore {
    private let database: any SQLDatabase

    /// A store over the main database, which must be migrated with `MainSchema.migrations`.
    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let columnList = """
        "id", "action", "severity", "apiKeyId", "apiKeyName", "sessionId", "sessionName", "ipAddress", \
        "userAgent", "method", "path", "statusCode", "metadata", "errorMessage", "createdAt"
        """

    /// See `AuditLogStore.append(_:)`.
    package func append(_ entry: AuditEntry) async throws {
        try await database.execute(
            """
            INSERT INTO audit_logs (\(Self.columnList)) \
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
            """,
            [
                .text(entry.id), .text(entry.action), .text(entry.severity), SQLValue(entry.apiKeyId),
                SQLValue(entry.apiKeyName), SQLValue(entry.sessionId), SQLValue(entry.sessionName),
                SQLValue(entry.ipAddress), SQLValue(entry.userAgent), SQLValue(entry.method), SQLValue(entry.path),
                SQLValue(entry.statusCode), SQLValue(entry.metadata), SQLValue(entry.errorMessage),
                SQLValue(entry.createdAt),
            ])
    }

    /// See `AuditLogStore.list(_:limit:offset:)`.
    package func list(_ filter: AuditLogFilter, limit: Int, offset: Int) async throws -> [AuditEntry] {
        var parameters: [SQLValue] = [.integer(Int64(max(0, limit))), .integer(Int64(max(0, offset)))]
        let condition = Self.whereClause(filter, parameters: &parameters)
        let rows = try await database.query(
            """
            SELECT \(Self.columnList) FROM audit_logs\(condition) \
            ORDER BY "createdAt" DESC, "id" DESC LIMIT $1 OFFSET $2
            """,
            parameters)
        return try rows.map(Self.entry(from:))
    }

    /// See `AuditLogStore.count(_:)`.
    package func count(_ filter: AuditLogFilter) async throws -> Int {
        var parameters: [SQLValue] = []
        let condition = Self.whereClause(filter, parameters: &parameters)
        let rows = try await database.query("SELECT COUNT(*) AS \"total\" FROM audit_logs\(condition)", parameters)
        return try rows.first?.requiredInt("total") ?? 0
    }

    /// The WHERE clause for `filter`, appending its values to `parameters`. Only the conditions
    /// that are set appear (rather than `$n IS NULL OR …`): PostgreSQL cannot infer the type of
    /// a parameter that is only ever compared with NULL.
    private static func whereClause(_ filter: AuditLogFilter, parameters: inout [SQLValue]) -> String {
        var conditions: [String] = []
        func equal(_ column: String, _ value: String?) {
            guard let value else { return }
            parameters.append(.text(value))
            conditions.append("\"\(column)\" = $\(parameters.count)")
        }
        equal("action", filter.action)
        equal("severity", filter.severity)
        equal("sessionId", filter.sessionId)
        equal("apiKeyId", filter.apiKeyId)
        if let allowed = filter.sessionIn {
            if allowed.isEmpty {
                conditions.append("1 = 0")
            } else {
                let placeholders = allowed.map { id -> String in
                    parameters.append(.text(id))
                    return "$\(parameters.count)"
                }
                conditions.append("\"sessionId\" IN (\(placeholders.joined(separator: ", ")))")
            }
        }
        return conditions.isEmpty ? "" : " WHERE " + conditions.joined(separator: " AND ")
    }

    /// See `AuditLogStore.prune(olderThan:)`; uses the `createdAt` index.
    package func prune(olderThan date: Date) async throws -> Int {
        try await database.execute("DELETE FROM audit_logs WHERE \"createdAt\" < $1", [SQLValue(date)])
    }

    private static func entry(from row: SQLRow) throws -> AuditEntry {
        AuditEntry(
            id: try row.requiredString("id"),
            action: try row.requiredString("action"),
            severity: try row.requiredString("severity"),
            apiKeyId: row.string("apiKeyId"),
            apiKeyName: row.string("apiKeyName"),
            sessionId: row.string("sessionId"),
            sessionName: row.string("sessionName"),
            ipAddress: row.string("ipAddress"),
            userAgent: row.string("userAgent"),
            method: row.string("method"),
            path: row.string("path"),
            statusCode: try row.optionalInt("statusCode"),
            metadata: row.string("metadata"),
            errorMessage: row.string("errorMessage"),
            createdAt: try row.requiredDate("createdAt"))
    }
}
