import Foundation
import Persistence
import Reactor
import Testing

@Suite("Migrations", .timeLimit(.minutes(1)))
struct MigratorTests {
    private func tableNames(_ database: any SQLDatabase) async throws -> Set<String> {
        try await Catalogue.tableNames(database)
    }

    private func ledger(_ database: any SQLDatabase) async throws -> [Int64] {
        try await database.query("SELECT version FROM schema_migrations ORDER BY version").compactMap {
            $0.int("version")
        }
    }

    @Test(arguments: TestDriver.available) func appliesOnceAndRerunningIsANoOp(_ driver: TestDriver) async throws {
        try await withDatabase(driver) { database, context async throws in
            #expect(try await Migrator.currentVersion(of: database) == 0)
            #expect(try await Migrator.migrate(database, MainSchema.migrations) == [1, 2])
            #expect(try await Migrator.migrate(database, MainSchema.migrations) == [])
            #expect(try await tableNames(database).isSuperset(of: ["api_keys", "audit_logs", "schema_migrations"]))
            #expect(try await ledger(database) == [1, 2])
            let names = try await database.query("SELECT name, \"appliedAt\" FROM schema_migrations ORDER BY version")
            #expect(names.map { $0.string("name") } == ["create_api_keys", "create_audit_logs"])
            #expect(names.allSatisfy { $0.string("appliedAt").flatMap(ISOTimestamp.parse) != nil })

            // A restart opens the same database and finds nothing to do.
            let reopened = try await context.reopen()
            #expect(try await Migrator.migrate(reopened, MainSchema.migrations) == [])
            #expect(try await Migrator.currentVersion(of: reopened) == 2)
            await reopened.close()
        }
    }

    @Test(arguments: TestDriver.available) func nodesBootingTogetherApplyEachMigrationOnce(_ driver: TestDriver) async throws {
        try await withDatabase(driver) { database, context async throws in
            var nodes: [any SQLDatabase] = [database]
            for _ in 0..<3 { nodes.append(try await context.reopen()) }
            let applied = try await withThrowingTaskGroup(of: [Int].self) { group in
                for node in nodes { group.addTask { try await Migrator.migrate(node, MainSchema.migrations) } }
                return try await group.reduce(into: []) { $0 += $1 }
            }
            #expect(applied.sorted() == [1, 2], "each version applied by exactly one node")
            #expect(try await ledger(database) == [1, 2])
            for node in nodes.dropFirst() { await node.close() }
        }
    }

    @Test(arguments: TestDriver.available) func appliesOnlyWhatIsNew(_ driver: TestDriver) async throws {
        try await withDatabase(driver, migrations: Array(MainSchema.migrations.prefix(1))) { database, _ async throws in
            #expect(try await tableNames(database).contains("api_keys"))
            #expect(try await !tableNames(database).contains("audit_logs"))
            #expect(try await Migrator.migrate(database, MainSchema.migrations) == [2])
            #expect(try await tableNames(database).contains("audit_logs"))
        }
    }

    @Test(arguments: TestDriver.available) func refusesADatabaseMigratedByANewerBuild(_ driver: TestDriver) async throws {
        try await withDatabase(driver, migrations: MainSchema.migrations) { database, _ async throws in
            try await database.execute(
                "INSERT INTO schema_migrations (version, name, \"appliedAt\") VALUES (3, 'from_the_future', $1)",
                [.text(ISOTimestamp.format(Date()))])
            let error = await #expect(throws: PersistenceError.self) {
                try await Migrator.migrate(database, MainSchema.migrations)
            }
            #expect(error?.isIncompatibleSchema == true)
            #expect(error?.database == "main")
        }
    }

    @Test(arguments: TestDriver.available) func aNewerDatabaseIsRefusedBeforeAnythingIsApplied(_ driver: TestDriver) async throws {
        try await withDatabase(driver, migrations: DataSchema.migrations) { database, _ async throws in
            try await database.execute(
                "INSERT INTO schema_migrations (version, name, \"appliedAt\") VALUES (99, 'x', 'y')")
            let next = (DataSchema.migrations.last?.version ?? 0) + 1
            let later =
                DataSchema.migrations + [
                    Migration(version: next, name: "add_table", sql: { _ in "CREATE TABLE later (x INTEGER);" })
                ]
            await #expect(throws: PersistenceError.self) { try await Migrator.migrate(database, later) }
            #expect(try await !tableNames(database).contains("later"))
        }
    }

    @Test(arguments: TestDriver.available) func aFailingMigrationLeavesNoTraceAndCanBeRetried(_ driver: TestDriver) async throws {
        try await withDatabase(driver) { database, _ async throws in
            let first = Migration(version: 1, name: "one", sql: { _ in "CREATE TABLE one (x INTEGER);" })
            let broken = Migration(
                version: 2, name: "two", sql: { _ in "CREATE TABLE two (x INTEGER); CREATE TABLE broken (x INTEGER" })
            await #expect(throws: PersistenceError.self) { try await Migrator.migrate(database, [first, broken]) }
            #expect(try await ledger(database) == [1])
            #expect(try await tableNames(database).contains("one"))
            #expect(try await !tableNames(database).contains("two"), "half a migration must not stay behind")

            let fixed = Migration(version: 2, name: "two", sql: { _ in "CREATE TABLE two (x INTEGER);" })
            #expect(try await Migrator.migrate(database, [first, fixed]) == [2])
            #expect(try await ledger(database) == [1, 2])
        }
    }

    @Test func schemaListsAreOrderedAndDialectAware() {
        for list in [MainSchema.migrations, DataSchema.migrations] {
            #expect(list.first?.version == 1)
            #expect(zip(list, list.dropFirst()).allSatisfy { $0.version < $1.version })
        }
        let apiKeys = MainSchema.migrations[0]
        #expect(apiKeys.sql(.sqlite).contains("\"isActive\" INTEGER NOT NULL DEFAULT 1"))
        #expect(apiKeys.sql(.postgres).contains("\"isActive\" BOOLEAN NOT NULL DEFAULT true"))
    }

    @Test(arguments: TestDriver.available) func apiKeyColumnsHaveOpenWADefaults(_ driver: TestDriver) async throws {
        try await withDatabase(driver, migrations: MainSchema.migrations) { database, _ async throws in
            try await database.execute(
                """
                INSERT INTO api_keys ("id", "name", "keyHash", "keyPrefix", "createdAt", "updatedAt") \
                VALUES ('k1', 'key', $1, 'owa_12345678', $2, $2)
                """,
                [.text(String(repeating: "a", count: 64)), .text(ISOTimestamp.format(referenceDate))])
            let row = try #require(try await database.query("SELECT * FROM api_keys").first)
            #expect(row.string("role") == "operator")
            #expect(row.bool("isActive") == true)
            #expect(row.int("usageCount") == 0)
            #expect(row["allowedIps"] == .null)
            #expect(row["expiresAt"] == .null)

            try await database.execute(
                "INSERT INTO audit_logs (\"id\", \"action\", \"createdAt\") VALUES ('a1', 'test', 'now')")
            #expect(try await database.query("SELECT severity FROM audit_logs").first?.string("severity") == "info")
            #expect(
                try await Catalogue.indexNames(database, table: "audit_logs") == [
                    "IDX_audit_logs_action", "IDX_audit_logs_apiKeyId", "IDX_audit_logs_sessionId",
                    "IDX_audit_logs_createdAt",
                ])
        }
    }

    @Test(arguments: TestDriver.available) func sessionsTableHasOpenWAColumnsAndDefaults(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, _ async throws in
            let columns = try await Catalogue.columnNames(database, table: "sessions")
            #expect(
                columns == [
                    "id", "name", "status", "phone", "pushName", "config", "proxyUrl", "proxyType", "connectedAt",
                    "lastActiveAt", "nodeId", "claimedAt", "nodeUrl", "leaseExpiresAt", "desiredState", "createdAt",
                    "updatedAt",
                ])
            let insert = """
                INSERT INTO sessions ("id", "name", "createdAt", "updatedAt") VALUES ($1, $2, $3, $3)
                """
            let now = SQLValue.text(ISOTimestamp.format(referenceDate))
            try await database.execute(insert, [.text("s1"), .text("alpha"), now])
            let row = try #require(try await database.query("SELECT * FROM sessions").first)
            #expect(row.string("status") == "created")
            #expect(row.string("config") == "{}")
            #expect(row["phone"] == .null)

            let duplicate = await #expect(throws: PersistenceError.self) {
                try await database.execute(insert, [.text("s2"), .text("alpha"), now])
            }
            #expect(duplicate?.isConstraintViolation == true)
        }
    }

    @Test(arguments: TestDriver.available) func messagesTableDeduplicatesInboundMessages(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, _ async throws in
            #expect(
                try await Catalogue.columnNames(database, table: "messages") == [
                    "id", "sessionId", "waMessageId", "chatId", "chatName", "author", "from", "to", "body", "type",
                    "direction", "timestamp", "metadata", "status", "createdAt", "mediaPath", "mediaMimetype",
                ])
            // Every query names the session: only the composite indexes (and media paths) are kept.
            let indexes = try await Catalogue.indexNames(database, table: "messages")
            #expect(indexes.isSuperset(of: ["IDX_messages_session_createdAt", "IDX_messages_session_chat_createdAt"]))
            #expect(indexes.isDisjoint(with: ["IDX_messages_chatId", "IDX_messages_status", "IDX_messages_createdAt"]))
            let insert = """
                INSERT INTO messages ("id", "sessionId", "waMessageId", "chatId", "timestamp", "createdAt") \
                VALUES ($1, $2, $3, $4, $5, $6)
                """
            let now = SQLValue.text(ISOTimestamp.format(referenceDate))
            let big = SQLValue.integer(4_102_444_800_000)  // past 32 bits
            try await database.execute(insert, [.text("m1"), .text("s1"), .text("WA1"), .text("c@c.us"), big, now])
            // Unacknowledged sends have no WhatsApp id yet, and NULLs never collide.
            try await database.execute(insert, [.text("m2"), .text("s1"), .null, .text("c@c.us"), big, now])
            try await database.execute(insert, [.text("m3"), .text("s1"), .null, .text("c@c.us"), big, now])
            let duplicate = await #expect(throws: PersistenceError.self) {
                try await database.execute(insert, [.text("m4"), .text("s1"), .text("WA1"), .text("c@c.us"), big, now])
            }
            #expect(duplicate?.isConstraintViolation == true)
            let row = try #require(try await database.query("SELECT * FROM messages WHERE \"id\" = 'm1'").first)
            #expect(row.string("type") == "text")
            #expect(row.string("direction") == "outgoing")
            #expect(row.string("status") == "sent")
            #expect(row.int("timestamp") == 4_102_444_800_000)
        }
    }
}
