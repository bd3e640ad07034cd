import Foundation
import Persistence
import Testing

@Suite("API key store", .timeLimit(.minutes(1)))
struct ApiKeyStoreTests {
    private func withStore(
        _ driver: TestDriver, _ body: (SQLApiKeyStore, any SQLDatabase) async throws -> Void
    ) async throws {
        try await withDatabase(driver, migrations: MainSchema.migrations) { database, _ async throws in
            try await body(SQLApiKeyStore(database: database), database)
        }
    }

    @Test(arguments: TestDriver.available) func everyFieldRoundTrips(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            var full = makeKey("everything", role: "admin")
            full.allowedIps = ["10.0.0.0/8", "192.168.1.7"]
            full.allowedSessions = ["alpha", "beta"]
            full.allowedChats = ["123@c.us"]
            full.isActive = false
            full.expiresAt = referenceDate.addingTimeInterval(86_400)
            full.lastUsedAt = referenceDate.addingTimeInterval(60.5)
            full.usageCount = 42
            full.updatedAt = referenceDate.addingTimeInterval(1)
            let bare = makeKey("bare")
            var emptyLists = makeKey("empty-lists")
            emptyLists.allowedSessions = []

            for record in [full, bare, emptyLists] {
                try await store.insert(record)
                #expect(try await store.find(id: record.id) == record)
                #expect(try await store.find(keyHash: record.keyHash) == record)
            }
            #expect(try await store.find(id: bare.id)?.allowedIps == nil)
            #expect(try await store.find(id: emptyLists.id)?.allowedSessions == [])
            #expect(try await store.find(id: "missing") == nil)
            #expect(try await store.find(keyHash: String(repeating: "0", count: 64)) == nil)
            #expect(try await store.count() == 3)
        }
    }

    @Test(arguments: TestDriver.available) func timestampsAreStoredAsISOTextWithMilliseconds(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, database async throws in
            var key = makeKey("iso")
            key.expiresAt = Date(timeIntervalSince1970: 1_795_967_291)
            try await store.insert(key)
            let row = try #require(try await database.query("SELECT * FROM api_keys").first)
            #expect(row.string("expiresAt") == "2026-11-29T15:48:11.000Z")
            #expect(row.string("createdAt") == "2026-11-29T15:48:11.123Z")
            #expect(row["isActive"] == .integer(1))
        }
    }

    @Test(arguments: TestDriver.available) func listIsNewestFirst(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            let keys = (0..<5).map {
                makeKey("key\($0)", createdAt: referenceDate.addingTimeInterval(Double($0) * 3600))
            }
            for key in keys.shuffled() { try await store.insert(key) }
            #expect(try await store.list().map(\.name) == ["key4", "key3", "key2", "key1", "key0"])
        }
    }

    @Test(arguments: TestDriver.available) func aDuplicateHashOrIdIsAConstraintViolation(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            let original = makeKey("original")
            try await store.insert(original)

            var sameHash = makeKey("copy")
            sameHash.keyHash = original.keyHash
            let hashError = await #expect(throws: PersistenceError.self) { try await store.insert(sameHash) }
            #expect(hashError?.isConstraintViolation == true)

            var sameId = makeKey("other")
            sameId.id = original.id
            let idError = await #expect(throws: PersistenceError.self) { try await store.insert(sameId) }
            #expect(idError?.isConstraintViolation == true)
            #expect(try await store.count() == 1)
        }
    }

    @Test(arguments: TestDriver.available) func updateOverwritesAndMissingKeysAreNotFound(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            var key = makeKey("before")
            try await store.insert(key)
            key.name = "after"
            key.role = "viewer"
            key.allowedChats = ["1@c.us", "2@c.us"]
            key.expiresAt = referenceDate.addingTimeInterval(10)
            key.updatedAt = referenceDate.addingTimeInterval(5)
            try await store.update(key)
            #expect(try await store.find(id: key.id) == key)

            let stranger = makeKey("stranger")
            let error = await #expect(throws: PersistenceError.self) { try await store.update(stranger) }
            #expect(error?.isNotFound == true)
        }
    }

    @Test(arguments: TestDriver.available) func deleteReportsWhetherTheKeyExisted(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            let key = makeKey("doomed")
            try await store.insert(key)
            #expect(try await store.delete(id: key.id))
            #expect(try await !store.delete(id: key.id))
            #expect(try await store.find(id: key.id) == nil)
            #expect(try await store.count() == 0)
        }
    }

    @Test(arguments: TestDriver.available) func recordUsageCountsAndOnlyMovesLastUsedForward(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            let key = makeKey("busy")
            try await store.insert(key)
            let later = referenceDate.addingTimeInterval(100)
            try await store.recordUsage(id: key.id, at: later, by: 3)
            try await store.recordUsage(id: key.id, at: referenceDate.addingTimeInterval(50), by: 2)  // late flush
            let stored = try #require(try await store.find(id: key.id))
            #expect(stored.usageCount == 5)
            #expect(stored.lastUsedAt == later)
            #expect(stored.updatedAt == key.updatedAt, "usage is not an edit")

            try await store.recordUsage(id: "deleted-meanwhile", at: later, by: 1)  // ignored, no throw
        }
    }

    @Test(arguments: TestDriver.available) func concurrentUsageUpdatesAreNotLost(_ driver: TestDriver) async throws {
        try await withStore(driver) { store, _ async throws in
            let key = makeKey("hot")
            try await store.insert(key)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for n in 0..<100 {
                    group.addTask {
                        try await store.recordUsage(id: key.id, at: referenceDate.addingTimeInterval(Double(n)), by: 1)
                    }
                }
                try await group.waitForAll()
            }
            let stored = try #require(try await store.find(id: key.id))
            #expect(stored.usageCount == 100)
            #expect(stored.lastUsedAt == referenceDate.addingTimeInterval(99))
        }
    }
}
