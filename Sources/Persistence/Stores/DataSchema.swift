/// Migrations of the data database. For now only the sessions table; engine auth state,
/// messages, chats, contacts, groups, webhooks and the outbox arrive as later versions.
///
/// Column names are OpenWA's camelCase names, double-quoted so PostgreSQL keeps their case.
package enum DataSchema {
    /// Every data-database migration, oldest first.
    package static let migrations: [Migration] = [
        Migration(version: 1, name: "create_sessions", sql: sessions)
    ]

    /// `config` is a JSON object (unknown keys are kept), `status` one of OpenWA's session
    /// statuses. `nodeId`, `claimedAt`, `nodeUrl` and `leaseExpiresAt` record which node owns the
    /// session in a multi-node deployment; `desiredState` is what the operator last asked for
    /// (started or stopped), so a restart restores it. Timestamps are ISO-8601 UTC text.
    private static func sessions(_ dialect: SQLDialect) -> String {
        """
        CREATE TABLE sessions (
            "id" TEXT NOT NULL PRIMARY KEY,
            "name" TEXT NOT NULL UNIQUE,
            "status" TEXT NOT NULL DEFAULT 'created',
            "phone" TEXT,
            "pushName" TEXT,
            "config" TEXT NOT NULL DEFAULT '{}',
            "proxyUrl" TEXT,
            "proxyType" TEXT,
            "connectedAt" TEXT,
            "lastActiveAt" TEXT,
            "nodeId" TEXT,
            "claimedAt" TEXT,
            "nodeUrl" TEXT,
            "leaseExpiresAt" TEXT,
            "desiredState" TEXT,
            "createdAt" TEXT NOT NULL,
            "updatedAt" TEXT NOT NULL
        );
        """
    }
}
