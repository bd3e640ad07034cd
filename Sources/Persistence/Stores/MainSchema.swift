/// Migrations of the main database: API keys and the audit log.
///
/// Column names are OpenWA's camelCase names, double-quoted so PostgreSQL keeps their case.
/// Timestamps are ISO-8601 UTC text with milliseconds (`ISOTimestamp`), identical in both
/// dialects and ordered correctly as text. Length limits (a name of at most 100 characters, a
/// 64-hex-digit hash, a 12-character prefix) are enforced by the API layer with a 400, not here,
/// where a violation could only surface as a driver-specific error.
package enum MainSchema {
    /// Every main-database migration, oldest first.
    package static let migrations: [Migration] = [
        Migration(version: 1, name: "create_api_keys", sql: apiKeys),
        Migration(version: 2, name: "create_audit_logs", sql: auditLogs),
    ]

    /// Scope lists are comma-joined text where NULL means unrestricted; `keyHash` is the
    /// SHA-256 of the key, and its UNIQUE index is also the lookup path for authentication.
    private static func apiKeys(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE api_keys (
            "id" TEXT NOT NULL PRIMARY KEY,
            "name" TEXT NOT NULL,
            "keyHash" TEXT NOT NULL UNIQUE,
            "keyPrefix" TEXT NOT NULL,
            "role" TEXT NOT NULL DEFAULT 'operator',
            "allowedIps" TEXT,
            "allowedSessions" TEXT,
            "allowedChats" TEXT,
            "isActive" \(dialect.booleanType) NOT NULL DEFAULT \(dialect.trueLiteral),
            "expiresAt" TEXT,
            "lastUsedAt" TEXT,
            "usageCount" INTEGER NOT NULL DEFAULT 0,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        """
    }

    /// No foreign keys to `api_keys` or sessions: the audit trail must outlive what it mentions,
    /// which is why it also copies the key and session names.
    private static func auditLogs(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE audit_logs (
            "id" TEXT NOT NULL PRIMARY KEY,
            "action" TEXT NOT NULL,
            "severity" TEXT NOT NULL DEFAULT 'info',
            "apiKeyId" TEXT,
            "apiKeyName" TEXT,
            "sessionId" TEXT,
            "sessionName" TEXT,
            "ipAddress" TEXT,
            "userAgent" TEXT,
            "method" TEXT,
            "path" TEXT,
            "statusCode" INTEGER,
            "metadata" TEXT,
            "errorMessage" TEXT,
            "createdAt" TEXT NOT NULL
        );
        CREATE INDEX "IDX_audit_logs_action" ON audit_logs ("action");
        CREATE INDEX "IDX_audit_logs_apiKeyId" ON audit_logs ("apiKeyId");
        CREATE INDEX "IDX_audit_logs_sessionId" ON audit_logs ("sessionId");
        CREATE INDEX "IDX_audit_logs_createdAt" ON audit_logs ("createdAt");
        """
    }
}
