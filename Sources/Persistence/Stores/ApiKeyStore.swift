import Foundation

/// A change to one API key that must not remove the last usable unrestricted admin key.
package enum ApiKeyMutation: Sendable, Equatable {
    /// Replace the stored key with this record (its `id` is ignored; the target id wins).
    case update(ApiKeyRecord)
    /// Mark the key inactive and stamp `updatedAt` with the mutation's time.
    case revoke
    /// Remove the key.
    case delete
}

/// The outcome of `ApiKeyStore.mutateGuarded`.
package enum ApiKeyGuardedResult: Sendable, Equatable {
    /// The change was written; carries the key as stored afterwards (nil after a delete).
    case done(ApiKeyRecord?)
    /// No key has that id; nothing was written.
    case notFound
    /// The change would leave no usable unrestricted admin key; nothing was written (a 409).
    case wouldRemoveLastAdmin
}

/// Storage of API keys in the main database.
package protocol ApiKeyStore: Sendable {
    /// Stores a new key. Throws a constraint violation when `id` or `keyHash` already exists.
    func insert(_ record: ApiKeyRecord) async throws

    /// The key with this id, or nil.
    func find(id: String) async throws -> ApiKeyRecord?

    /// The key with this hash, or nil: the authentication lookup.
    func find(keyHash: String) async throws -> ApiKeyRecord?

    /// Every key, newest `createdAt` first.
    func list() async throws -> [ApiKeyRecord]

    /// How many keys exist (active or not).
    func count() async throws -> Int

    /// Overwrites the stored key with `record`, unguarded (bootstrap and tests).
    /// Throws `PersistenceError.notFound` when no key has `record.id`.
    func update(_ record: ApiKeyRecord) async throws

    /// Removes the key, unguarded; false when it did not exist.
    func delete(id: String) async throws -> Bool

    /// Adds `count` uses and moves `lastUsedAt` forward to `at` (never backward, so batched
    /// usage flushes may arrive out of order). A missing key is ignored: it may have been deleted
    /// after it authenticated the request.
    func recordUsage(id: String, at: Date, by count: Int) async throws

    /// Applies `change` to key `id` atomically, unless afterwards no usable unrestricted admin
    /// key (see `ApiKeyRecord.isUsableUnrestrictedAdmin(at:)`) would remain at `now`.
    ///
    /// The check, and the write, happen in one transaction over all keys, so two concurrent
    /// revocations of the last two admins cannot both succeed. The check applies only when such
    /// a key exists before the change: a deployment that has none is not locked out of editing
    /// its keys.
    func mutateGuarded(id: String, at now: Date, _ change: ApiKeyMutation) async throws -> ApiKeyGuardedResult
}

extension ApiKeyStore {
    /// Guarded update: true when written, false when it would remove the last usable admin.
    /// Throws `PersistenceError.notFound` when no key has `record.id`.
    package func updateGuarded(_ record: ApiKeyRecord, unlessNoUsableAdminRemainsAt now: Date) async throws -> Bool {
        switch try await mutateGuarded(id: record.id, at: now, .update(record)) {
        case .done: return true
        case .wouldRemoveLastAdmin: return false
        case .notFound: throw PersistenceError.notFound
        }
    }
}

/// `ApiKeyStore` over any `SQLDatabase`, in SQL that runs unchanged on SQLite and PostgreSQL.
package final class SQLApiKeyStore: ApiKeyStore {
    private let database: any SQLDatabase

    /// A store over the main database, which must be migrated with `MainSchema.migrations`.
    package init(database: any SQLDatabase) {
        self.database = database
    }

    private static let selectAll = "SELECT \(ApiKeyRecord.columnList) FROM api_keys"

    private static let insertSQL = """
        INSERT INTO api_keys (\(ApiKeyRecord.columnList)) \
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """

    /// Binds `columnValues` as is: `$1` is the id, the rest follow `columnList`.
    private static let updateSQL = """
        UPDATE api_keys SET "name" = $2, "keyHash" = $3, "keyPrefix" = $4, "role" = $5, "allowedIps" = $6, \
        "allowedSessions" = $7, "allowedChats" = $8, "isActive" = $9, "expiresAt" = $10, "lastUsedAt" = $11, \
        "usageCount" = $12, "createdAt" = $13, "updatedAt" = $14 WHERE "id" = $1
        """

    private static let deleteSQL = "DELETE FROM api_keys WHERE \"id\" = $1"

    /// See `ApiKeyStore.insert(_:)`.
    package func insert(_ record: ApiKeyRecord) async throws {
        try await database.execute(Self.insertSQL, record.columnValues)
    }

    /// See `ApiKeyStore.find(id:)`.
    package func find(id: String) async throws -> ApiKeyRecord? {
        try await database.query("\(Self.selectAll) WHERE \"id\" = $1", [.text(id)]).first.map(ApiKeyRecord.init(row:))
    }

    /// See `ApiKeyStore.find(keyHash:)`; served by the UNIQUE index on `keyHash`.
    package func find(keyHash: String) async throws -> ApiKeyRecord? {
        try await database.query("\(Self.selectAll) WHERE \"keyHash\" = $1", [.text(keyHash)]).first
            .map(ApiKeyRecord.init(row:))
    }

    /// See `ApiKeyStore.list()`.
    package func list() async throws -> [ApiKeyRecord] {
        // The id breaks ties between keys created in the same millisecond, so pages are stable.
        try await database.query("\(Self.selectAll) ORDER BY \"createdAt\" DESC, \"id\" DESC", [])
            .map(ApiKeyRecord.init(row:))
    }

    /// See `ApiKeyStore.count()`.
    package func count() async throws -> Int {
        let rows = try await database.query("SELECT COUNT(*) AS \"total\" FROM api_keys", [])
        return try rows.first?.requiredInt("total") ?? 0
    }

    /// See `ApiKeyStore.update(_:)`.
    package func update(_ record: ApiKeyRecord) async throws {
        guard try await database.execute(Self.updateSQL, record.columnValues) > 0 else {
            throw PersistenceError.notFound
        }
    }

    /// See `ApiKeyStore.delete(id:)`.
    package func delete(id: String) async throws -> Bool {
        try await database.execute(Self.deleteSQL, [.text(id)]) > 0
    }

    /// See `ApiKeyStore.recordUsage(id:at:by:)`.
    package func recordUsage(id: String, at date: Date, by count: Int) async throws {
        // Timestamps are fixed-width UTC text, so comparing them as text compares them in time.
        try await database.execute(
            """
            UPDATE api_keys SET "usageCount" = "usageCount" + $1, \
            "lastUsedAt" = CASE WHEN "lastUsedAt" IS NULL OR "lastUsedAt" < $2 THEN $2 ELSE "lastUsedAt" END \
            WHERE "id" = $3
            """,
            [.integer(Int64(count)), SQLValue(date), .text(id)])
    }

    /// See `ApiKeyStore.mutateGuarded(id:at:_:)`. Loads every key inside the transaction (with
    /// row locks on PostgreSQL), decides in memory, then writes at most one row.
    package func mutateGuarded(
        id: String, at now: Date, _ change: ApiKeyMutation
    ) async throws -> ApiKeyGuardedResult {
        // A fixed order makes concurrent guarded mutations lock the rows in the same order on
        // PostgreSQL, so they queue behind each other instead of deadlocking.
        let loadAll = Self.selectAll + " ORDER BY \"id\"" + database.dialect.lockForUpdateSuffix
        return try await database.withTransaction { transaction in
            let keys = try await transaction.query(loadAll, []).map(ApiKeyRecord.init(row:))
            guard let current = keys.first(where: { $0.id == id }) else { return .notFound }

            let after: ApiKeyRecord?
            switch change {
            case .update(var replacement):
                replacement.id = id
                after = replacement
            case .revoke:
                var revoked = current
                revoked.isActive = false
                revoked.updatedAt = now
                after = revoked
            case .delete:
                after = nil
            }

            let hadUsableAdmin = keys.contains { $0.isUsableUnrestrictedAdmin(at: now) }
            let keepsUsableAdmin =
                keys.contains { $0.id != id && $0.isUsableUnrestrictedAdmin(at: now) }
                || after?.isUsableUnrestrictedAdmin(at: now) == true
            if hadUsableAdmin && !keepsUsableAdmin { return .wouldRemoveLastAdmin }

            if let after {
                try await transaction.execute(Self.updateSQL, after.columnValues)
            } else {
                try await transaction.execute(Self.deleteSQL, [.text(id)])
            }
            return .done(after)
        }
    }
}
