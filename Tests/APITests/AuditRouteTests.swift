import API
import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// `GET /api/audit` (reference 2.18), the audit rows our features write (7.3), and retention (7.4).
@Suite(.timeLimit(.minutes(1))) struct AuditRouteTests {
    private static let base = Date(timeIntervalSince1970: 1_780_000_000)

    /// Six rows, one a minute, newest last: two sessions, two keys, all three severities.
    private static let seed: [AuditRecord] = [
        AuditRecord(action: "session_created", sessionId: "s1", createdAt: base),
        AuditRecord(action: "session_started", apiKeyId: "k1", sessionId: "s1", createdAt: base + 60),
        AuditRecord(action: "session_created", sessionId: "s2", createdAt: base + 120),
        AuditRecord(action: "api_key_auth_failed", severity: .warn, ipAddress: "203.0.113.9", createdAt: base + 180),
        AuditRecord(action: "session_logged_out", severity: .error, apiKeyId: "k2", sessionId: "s2", createdAt: base + 240),
        AuditRecord(action: "api_key_created", apiKeyId: "k1", metadata: ["targetKeyId": "k9"], createdAt: base + 300),
    ]

    private func actions(_ response: TestResponse) -> [String] {
        (response.object["data"] as? [[String: Any]] ?? []).compactMap { $0["action"] as? String }
    }

    @Test func listsNewestFirstWithTotalAndPages() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(auditSeed: Self.seed))
        let all = try await gateway.request("GET", "/api/audit")
        #expect(all.status == 200)
        #expect(all.object["total"] as? Int == 6)
        #expect(actions(all) == Self.seed.reversed().map(\.action))
        let first = try #require((all.object["data"] as? [[String: Any]])?.first)
        #expect(first["apiKeyId"] as? String == "k1")
        #expect((first["metadata"] as? [String: Any])?["targetKeyId"] as? String == "k9")
        #expect(first["createdAt"] as? String == ISODate.format(Self.base + 300))
        #expect(first["sessionId"] is NSNull)

        let page = try await gateway.request("GET", "/api/audit?limit=2&offset=1")
        #expect(page.object["total"] as? Int == 6)
        #expect(actions(page) == ["session_logged_out", "api_key_auth_failed"])
        let past = try await gateway.request("GET", "/api/audit?offset=10")
        #expect(actions(past).isEmpty && past.object["total"] as? Int == 6)
        await gateway.stop()
    }

    @Test func limitDefaultsTo50AndIsCappedAt200() async throws {
        let many = (0..<205).map { AuditRecord(action: "tick", createdAt: Self.base + Double($0)) }
        let gateway = try await TestGateway.start(limits: TestLimits(auditSeed: many))
        #expect(actions(try await gateway.request("GET", "/api/audit")).count == 50)
        #expect(actions(try await gateway.request("GET", "/api/audit?limit=1000")).count == 200)
        #expect(actions(try await gateway.request("GET", "/api/audit?limit=0")).count == 1)
        #expect(actions(try await gateway.request("GET", "/api/audit?offset=-5&limit=3")).count == 3)
        await gateway.stop()
    }

    @Test func filtersCombine() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(auditSeed: Self.seed))
        #expect(actions(try await gateway.request("GET", "/api/audit?action=session_created")) == ["session_created", "session_created"])
        #expect(actions(try await gateway.request("GET", "/api/audit?severity=warn")) == ["api_key_auth_failed"])
        #expect(actions(try await gateway.request("GET", "/api/audit?sessionId=s2")) == ["session_logged_out", "session_created"])
        #expect(actions(try await gateway.request("GET", "/api/audit?apiKeyId=k1")) == ["api_key_created", "session_started"])
        let combined = try await gateway.request("GET", "/api/audit?sessionId=s1&action=session_started&apiKeyId=k1&severity=info")
        #expect(actions(combined) == ["session_started"] && combined.object["total"] as? Int == 1)

        let badSeverity = try await gateway.request("GET", "/api/audit?severity=fatal")
        #expect(badSeverity.status == 400)
        #expect(badSeverity.object["message"] as? [String] == ["severity must be one of the following values: info, warn, error"])
        let unknown = try await gateway.request("GET", "/api/audit?level=info")
        #expect(unknown.status == 400)
        #expect(unknown.object["message"] as? [String] == ["property level should not exist"])
        await gateway.stop()
    }

    @Test func adminOnlyAndScopedKeysSeeTheirSessions() async throws {
        let gateway = try await TestGateway.start(limits: TestLimits(auditSeed: Self.seed))
        let operatorKey = try await gateway.keys.create(
            name: "ops", role: .operator, allowedIps: nil, allowedSessions: nil, allowedChats: nil, expiresAt: nil)
        let denied = try await gateway.request("GET", "/api/audit", key: operatorKey.plaintext)
        #expect(denied.status == 403)
        #expect(denied.object["message"] as? String == "Insufficient permissions. Required: admin")
        #expect(try await gateway.request("GET", "/api/audit", key: nil).status == 401)

        let scoped = try await gateway.keys.create(
            name: "s1 admin", role: .admin, allowedIps: nil, allowedSessions: ["s1"], allowedChats: nil, expiresAt: nil)
        let mine = try await gateway.request("GET", "/api/audit", key: scoped.plaintext)
        #expect(mine.status == 200)
        #expect(actions(mine) == ["session_started", "session_created"], "only rows about s1; none about no session")
        #expect(mine.object["total"] as? Int == 2)
        let other = try await gateway.request("GET", "/api/audit?sessionId=s2", key: scoped.plaintext)
        #expect(other.status == 403)
        #expect(other.object["message"] as? String == "API key not authorized for this session")
        await gateway.stop()
    }

    @Test func apiKeyChangesAndAuthFailuresAreAudited() async throws {
        let gateway = try await TestGateway.start()
        let created = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"temporary","role":"viewer"}"#)
        let id = try #require(created.object["id"] as? String)
        #expect(try await gateway.request("PUT", "/api/auth/api-keys/\(id)", body: #"{"name":"renamed"}"#).status == 200)
        #expect(try await gateway.request("POST", "/api/auth/api-keys/\(id)/revoke").status == 200)
        #expect(try await gateway.request("DELETE", "/api/auth/api-keys/\(id)").status == 204)
        let expected = ["api_key_deleted", "api_key_revoked", "api_key_updated", "api_key_created"]
        let rows = try await eventually({
            try await gateway.audit.list(AuditQuery(), limit: 10, offset: 0).records.filter { $0.action.hasPrefix("api_key_") }
        }, until: { $0.count >= 4 })
        #expect(Set(rows.map(\.action)) == Set(expected))
        let admin = try await gateway.keys.authenticate(TestGateway.adminKey).get()
        for row in rows {
            #expect(row.apiKeyId == admin.id && row.apiKeyName == admin.name, "the acting key")
            #expect(row.metadata?["targetKeyId"] == .string(id))
            #expect(row.ipAddress == "127.0.0.1")
            #expect(row.metadata?["requestId"] != nil)
        }
        #expect(rows.first { $0.action == "api_key_deleted" }?.metadata?["targetKeyName"] == "renamed")

        // Twelve bad keys from one address: ten rows (OpenWA's cap per address and minute).
        for attempt in 0..<12 {
            #expect(try await gateway.request("GET", "/api/sessions", key: "owa_k1_guess\(attempt)").status == 401)
        }
        let failures = try await eventually({
            try await gateway.audit.list(AuditQuery(action: "api_key_auth_failed"), limit: 50, offset: 0)
        }, until: { $0.total >= 10 })
        #expect(failures.total == 10)
        #expect(failures.records.allSatisfy { $0.severity == .warn && $0.statusCode == 401 && $0.errorMessage == "Invalid API key" })
        await gateway.stop()
    }

    @Test func retentionSweepsAtStartupAndEvery24Hours() async throws {
        let clock = ManualReactorClock()
        let now = Date()
        let sweeps = AsyncStream<Int>.makeStream()
        let seed = [
            AuditRecord(action: "ancient", createdAt: now - 100 * 86_400),
            AuditRecord(action: "recent", createdAt: now - 10 * 86_400),
        ]
        let gateway = try await TestGateway.start(
            clock: clock,
            limits: TestLimits(
                auditRetentionDays: 90, auditSeed: seed, onRetentionSweep: { sweeps.continuation.yield($0) }))
        #expect(try await gateway.audit.list(AuditQuery(), limit: 10, offset: 0).records.map { $0.action } == ["recent"])

        await gateway.audit.write(AuditRecord(action: "expired later", createdAt: now - 95 * 86_400))
        var results = sweeps.stream.makeAsyncIterator()
        clock.advance(milliseconds: 86_400_000)
        #expect(await results.next() == 1)
        #expect(try await gateway.audit.list(AuditQuery(), limit: 10, offset: 0).records.map { $0.action } == ["recent"])
        // And again a day later: the sweep re-arms itself.
        clock.advance(milliseconds: 86_400_000)
        #expect(await results.next() == 0)
        await gateway.stop()
    }
}
