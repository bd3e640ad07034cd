import Reactor
import Foundation

/// One versioned schema change.
///
/// Versions are positive and strictly increasing within a list. A migration, once released, is
/// never edited: a later change is a new migration, because databases in the field already
/// recorded the old one as applied.
package struct Migration: Sendable {
    /// The version this migration brings the schema to.
    package let version: Int
    /// A short label recorded next to the version, for operators reading `schema_migrations`.
    package let name: String
    /// The script for a dialect: one or more `;`-separated statements, run without binds.
    package let sql: @Sendable (SQLDialect) -> String

    /// Creates a migration.
    package init(version: Int, name: String, sql: @escaping @Sendable (SQLDialect) -> String) {
        self.version = version
        self.name = name
        self.sql = sql
    }
}

/// Applies versioned migrations and records them in `schema_migrations`.
package enum Migrator {
    private static let createLedger = """
        CREATE TABLE IF NOT EXISTS schema_migrations (
            "version" INTEGER NOT NULL PRIMARY KEY,
            "name" TEXT NOT NULL,
            "appliedAt" TEXT NOT NULL
        )
        """

    /// Brings `database` up to the newest of `migrations`.
    ///
    /// Each migration runs in its own transaction together with its ledger row, so a failed
    /// migration leaves neither half a schema change nor a record of it (PostgreSQL's DDL is
    /// transactional, and so is SQLite's), and a restart resumes where the last run stopped.
    /// Running again with nothing new is a no-op. On PostgreSQL every step holds an advisory
    /// lock, so several nodes may boot against one database at once.
    ///
    /// - Returns: the versions applied by this call, oldest first.
    /// - Throws: `PersistenceError.incompatibleSchema` when the database already holds a version
    ///   newer than any in `migrations` (it was migrated by a newer build); nothing is changed.
    @discardableResult
    package static func migrate(_ database: any SQLDatabase, _ migrations: [Migration]) async throws -> [Int] {
        precondition(
            zip(migrations, migrations.dropFirst()).allSatisfy { $0.version < $1.version }
                && (migrations.first?.version ?? 1) >= 1,
            "migration versions must be positive and strictly increasing")

        try await createLedger(in: database)
        let recorded = try await appliedVersions(of: database)
        let newestKnown = migrations.last?.version ?? 0
        if let newestRecorded = recorded.max(), newestRecorded > newestKnown {
            throw PersistenceError.incompatibleSchema(
                database: database.name, found: newestRecorded, known: newestKnown)
        }

        var applied: [Int] = []
        for migration in migrations where !recorded.contains(migration.version) {
            let script = migration.sql(database.dialect)
            let appliedAt = ISOTimestamp.format(Date())
            let lock = database.dialect.migrationLockStatement
            let didApply = try await database.withTransaction { transaction in
                if let lock { _ = try await transaction.query(lock, []) }
                // Checked again under the lock: another node or process sharing the database may
                // have applied this version since the ledger was read above.
                let already = try await transaction.query(
                    "SELECT \"version\" FROM schema_migrations WHERE \"version\" = $1",
                    [.integer(Int64(migration.version))])
                guard already.isEmpty else { return false }
                try await transaction.executeScript(script)
                try await transaction.execute(
                    "INSERT INTO schema_migrations (\"version\", \"name\", \"appliedAt\") VALUES ($1, $2, $3)",
                    [.integer(Int64(migration.version)), .text(migration.name), .text(appliedAt)])
                return true
            }
            if didApply { applied.append(migration.version) }
        }
        return applied
    }

    /// The highest version recorded in the database's ledger, 0 for a fresh database (whose
    /// empty ledger this creates, so the answer never depends on whether `migrate` ran before).
    package static func currentVersion(of database: any SQLDatabase) async throws -> Int {
        try await createLedger(in: database)
        return try await appliedVersions(of: database).max() ?? 0
    }

    /// Creates the ledger when missing. On PostgreSQL this too runs under the migration lock:
    /// two nodes booting at once would otherwise race in `CREATE TABLE IF NOT EXISTS`, which is
    /// not atomic there and can fail with a duplicate-type error.
    private static func createLedger(in database: any SQLDatabase) async throws {
        guard let lock = database.dialect.migrationLockStatement else {
            try await database.execute(createLedger, [])
            return
        }
        try await database.withTransaction { transaction in
            _ = try await transaction.query(lock, [])
            try await transaction.execute(createLedger, [])
        }
    }

    private static func appliedVersions(of database: any SQLDatabase) async throws -> Set<Int> {
        let rows = try await database.query("SELECT \"version\" FROM schema_migrations", [])
        return Set(try rows.map { try $0.requiredInt("version") })
    }
}
