import Foundation
import Persistence
import Testing

@Suite("Audit log store", .timeLimit(.minutes(1)))
struct AuditLogStoreTests {
    private func withStore(_ driver: TestDriver, _ body: (SQLAuditLogStore) async throws -> Void) async throws {
        try await withDatabase(driver, migrations: MainSchema.migrations) { database, _ async throws in
            try await body(SQLAuditLogStore(database: database))
        }
    }

    private func entry(_ action: String, minutesAfterReference minutes: Double) -> AuditEntry {
        AuditEntry(
            id: UUID().uuidString.lowercased(), action: action,
            createdAt: referenceDate.addingTimeInterval(minutes * 60))
    }

    @Test(arguments: TestDriver.available) func everyFieldRoundTrips(_ driver: TestDriver) async throws {
        try await withStore(driver) { store async throws in
            let full = AuditEntry(
                id: "a1", action: "api_key_created", severity: "warn", apiKeyId: "k1", apiKeyName: "ops",
                sessionId: "s1", sessionName: "alpha", ipAddress: "203.0.113.9", userAgent: "curl/8",
                method: "POST", path: "/api/auth/api-keys", statusCode: 201,
                metadata: #"{"role":"admin","allowedSessions":["alpha"]}"#, errorMessage: "none",
                createdAt: referenceDate)
            let sparse = AuditEntry(id: "a2", action: "session_started", createdAt: referenceDate.addingTimeInterval(1))
            try await store.append(full)
            try await store.append(sparse)
            #expect(try await store.list(limit: 10, offset: 0, action: nil) == [sparse, full])
            #expect(sparse.severity == "info")
        }
    }

    @Test(arguments: TestDriver.available) func listPagesNewestFirstAndFiltersByAction(_ driver: TestDriver) async throws {
        try await withStore(driver) { store async throws in
            for minute in 0..<10 {
                try await store.append(
                    entry(minute.isMultiple(of: 2) ? "even" : "odd", minutesAfterReference: Double(minute)))
            }
            let firstPage = try await store.list(limit: 4, offset: 0, action: nil)
            let secondPage = try await store.list(limit: 4, offset: 4, action: nil)
            let times = (firstPage + secondPage).map(\.createdAt)
            #expect(times == times.sorted(by: >))
            #expect(times.count == 8)
            #expect(Set(firstPage.map(\.id)).isDisjoint(with: secondPage.map(\.id)))

            let odd = try await store.list(limit: 100, offset: 0, action: "odd")
            #expect(odd.count == 5)
            #expect(odd.allSatisfy { $0.action == "odd" })
            #expect(try await store.count(action: "odd") == 5)
            #expect(try await store.count(action: nil) == 10)
            #expect(try await store.list(limit: 10, offset: 0, action: "none").isEmpty)
        }
    }

    @Test(arguments: TestDriver.available) func filtersCombineAndSessionScopesExcludeOthers(_ driver: TestDriver) async throws {
        try await withStore(driver) { store async throws in
            let rows = [
                AuditEntry(id: "1", action: "session_started", apiKeyId: "k1", sessionId: "s1", createdAt: referenceDate),
                AuditEntry(id: "2", action: "session_started", severity: "warn", sessionId: "s2", createdAt: referenceDate + 1),
                AuditEntry(id: "3", action: "api_key_created", apiKeyId: "k1", createdAt: referenceDate + 2),
                AuditEntry(id: "4", action: "session_deleted", severity: "error", apiKeyId: "k2", sessionId: "s3", createdAt: referenceDate + 3),
            ]
            for row in rows { try await store.append(row) }
            func ids(_ filter: AuditLogFilter) async throws -> [String] {
                let listed = try await store.list(filter, limit: 10, offset: 0).map(\.id)
                #expect(try await store.count(filter) == listed.count)
                return listed
            }
            #expect(try await ids(AuditLogFilter()) == ["4", "3", "2", "1"])
            #expect(try await ids(AuditLogFilter(action: "session_started")) == ["2", "1"])
            #expect(try await ids(AuditLogFilter(severity: "warn")) == ["2"])
            #expect(try await ids(AuditLogFilter(sessionId: "s3")) == ["4"])
            #expect(try await ids(AuditLogFilter(apiKeyId: "k1")) == ["3", "1"])
            #expect(try await ids(AuditLogFilter(action: "session_started", apiKeyId: "k1")) == ["1"])
            #expect(try await ids(AuditLogFilter(sessionIn: ["s1", "s3"])) == ["4", "1"], "rows about no session excluded")
            #expect(try await ids(AuditLogFilter(sessionId: "s2", sessionIn: ["s1"])).isEmpty)
            #expect(try await ids(AuditLogFilter(sessionIn: [])).isEmpty)
            #expect(try await store.list(AuditLogFilter(apiKeyId: "k1"), limit: 1, offset: 1).map(\.id) == ["1"])
        }
    }

    @Test(arguments: TestDriver.available) func negativePagingCountsAsZero(_ driver: TestDriver) async throws {
        try await withStore(driver) { store async throws in
            try await store.append(entry("x", minutesAfterReference: 0))
            #expect(try await store.list(limit: -1, offset: 0, action: nil).isEmpty)
            #expect(try await store.list(limit: 5, offset: -3, action: nil).count == 1)
        }
    }

    @Test(arguments: TestDriver.available) func pruneRemovesOnlyOlderEntries(_ driver: TestDriver) async throws {
        try await withStore(driver) { store async throws in
            for minute in 0..<6 {
                try await store.append(entry("tick", minutesAfterReference: Double(minute)))
            }
            let cutoff = referenceDate.addingTimeInterval(3 * 60)
            #expect(try await store.prune(olderThan: cutoff) == 3)
            let remaining = try await store.list(limit: 10, offset: 0, action: nil)
            #expect(remaining.count == 3)
            #expect(remaining.allSatisfy { $0.createdAt >= cutoff })
            #expect(try await store.prune(olderThan: cutoff) == 0)
        }
    }
}
