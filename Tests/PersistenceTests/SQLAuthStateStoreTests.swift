import Persistence
import Testing

@Suite("SQLAuthStateStore")
struct SQLAuthStateStoreTests {
    @Test(arguments: TestDriver.available) func writesReadsAndDeletesKeysPerSession(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, _ async throws in
            let store = SQLAuthStateStore(database: database)
            #expect(try await store.load(sessionID: "s1").isEmpty)
            let binary: [UInt8] = [0, 1, 2, 0xFF, 0x5C, 0x78, 0]
            try await store.apply(sessionID: "s1", changes: ["noise": binary, "me": Array("1@s".utf8), "empty": []])
            try await store.apply(sessionID: "s2", changes: ["noise": [9]])
            #expect(try await store.value(sessionID: "s1", key: "noise") == binary)
            #expect(try await store.value(sessionID: "s1", key: "empty") == [])
            #expect(try await store.value(sessionID: "s1", key: "missing") == nil)
            try await store.apply(sessionID: "s1", changes: ["noise": [7, 7], "me": nil])
            #expect(try await store.load(sessionID: "s1") == ["noise": [7, 7], "empty": []])
            try await store.wipe(sessionID: "s1")
            #expect(try await store.load(sessionID: "s1").isEmpty)
            #expect(try await store.load(sessionID: "s2") == ["noise": [9]])
        }
    }

    /// Only keys that start with the prefix, of that session; `%` and `_` are plain characters.
    @Test(arguments: TestDriver.available) func loadsTheKeysUnderAPrefix(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, _ async throws in
            let store = SQLAuthStateStore(database: database)
            try await store.apply(
                sessionID: "s1",
                changes: [
                    "appstate.key.01": [1], "appstate.key.02": [2], "appstate.keys": [3], "appstate.ke": [4],
                    "session.1.0": [5], "appstate%key.03": [6], "Appstate.key.04": [7],
                ])
            try await store.apply(sessionID: "s2", changes: ["appstate.key.09": [9]])
            #expect(try await store.load(sessionID: "s1", prefix: "appstate.key.") == ["appstate.key.01": [1], "appstate.key.02": [2]])
            #expect(try await store.load(sessionID: "s1", prefix: "app_tate.key.").isEmpty)
            #expect(try await store.load(sessionID: "s3", prefix: "appstate.key.").isEmpty)
            #expect(try await store.load(sessionID: "s1", prefix: "").count == 7)
        }
    }

    @Test(arguments: TestDriver.available) func aFailingBatchWritesNothing(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, _ async throws in
            let store = SQLAuthStateStore(database: database)
            try await store.apply(sessionID: "s1", changes: ["a": [1]])
            // A trigger refuses the key "z", which sorts last in the batch: "a" and "b" are
            // written before it fails and must be rolled back.
            if database.dialect == .sqlite {
                try await database.execute(
                    """
                    CREATE TRIGGER poison BEFORE INSERT ON auth_state WHEN NEW."key" = 'z' \
                    BEGIN SELECT RAISE(ABORT, 'poison'); END
                    """)
            } else {
                try await database.execute(
                    """
                    CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN \
                    IF NEW."key" = 'z' THEN RAISE EXCEPTION 'poison'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql
                    """)
                try await database.execute(
                    "CREATE TRIGGER poison BEFORE INSERT ON auth_state FOR EACH ROW EXECUTE FUNCTION poison()")
            }
            await #expect(throws: (any Error).self) {
                try await store.apply(sessionID: "s1", changes: ["a": [2], "b": [3], "z": [4]])
            }
            #expect(try await store.load(sessionID: "s1") == ["a": [1]])
        }
    }

    @Test(arguments: TestDriver.available) func valuesSurviveAReopen(_ driver: TestDriver) async throws {
        try await withDatabase(driver, named: "data", migrations: DataSchema.migrations) { database, context async throws in
            try await SQLAuthStateStore(database: database).apply(sessionID: "s", changes: ["k": [1, 2, 3]])
            let other = try await context.reopen()
            #expect(try await SQLAuthStateStore(database: other).load(sessionID: "s") == ["k": [1, 2, 3]])
            await other.close()
        }
    }
}
