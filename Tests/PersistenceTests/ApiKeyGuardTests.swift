import Foundation
import Persistence
import Testing

@Suite("Last usable admin key protection", .timeLimit(.minutes(1)))
struct ApiKeyGuardTests {
    private let now = referenceDate.addingTimeInterval(3600)

    private func withStore(
        _ driver: TestDriver, _ keys: [ApiKeyRecord], _ body: (SQLApiKeyStore) async throws -> Void
    ) async throws {
        try await withDatabase(driver, migrations: MainSchema.migrations) { database, _ async throws in
            let store = SQLApiKeyStore(database: database)
            for key in keys { try await store.insert(key) }
            try await body(store)
        }
    }

    /// Every way of taking the only admin out of service, applied to a fresh copy of it.
    private func disablingChanges(of admin: ApiKeyRecord) -> [(String, ApiKeyMutation)] {
        var demoted = admin
        demoted.role = "operator"
        var scoped = admin
        scoped.allowedSessions = ["alpha"]
        var chatScoped = admin
        chatScoped.allowedChats = ["1@c.us"]
        var ipBound = admin
        ipBound.allowedIps = ["10.0.0.1"]
        var expiring = admin
        expiring.expiresAt = now.addingTimeInterval(-1)
        var deactivated = admin
        deactivated.isActive = false
        return [
            ("revoke", .revoke), ("delete", .delete), ("demote", .update(demoted)), ("scope", .update(scoped)),
            ("chat scope", .update(chatScoped)), ("ip bind", .update(ipBound)), ("expire", .update(expiring)),
            ("deactivate", .update(deactivated)),
        ]
    }

    @Test(arguments: TestDriver.available) func theOnlyAdminCannotBeTakenOutOfService(_ driver: TestDriver) async throws {
        let admin = makeKey("root", role: "admin")
        let operatorKey = makeKey("worker")
        try await withStore(driver, [admin, operatorKey]) { store async throws in
            for (label, change) in disablingChanges(of: admin) {
                let result = try await store.mutateGuarded(id: admin.id, at: now, change)
                #expect(result == .wouldRemoveLastAdmin, "\(label)")
                #expect(try await store.find(id: admin.id) == admin, "\(label) must change nothing")
            }
            #expect(try await store.count() == 2)
        }
    }

    @Test(arguments: TestDriver.available) func harmlessEditsOfTheOnlyAdminGoThrough(_ driver: TestDriver) async throws {
        let admin = makeKey("root", role: "admin")
        try await withStore(driver, [admin]) { store async throws in
            var renamed = admin
            renamed.name = "renamed"
            renamed.expiresAt = now.addingTimeInterval(86_400)  // still valid at `now`
            renamed.updatedAt = now
            #expect(try await store.mutateGuarded(id: admin.id, at: now, .update(renamed)) == .done(renamed))
            #expect(try await store.find(id: admin.id) == renamed)
        }
    }

    @Test(arguments: TestDriver.available) func withTwoAdminsOneCanGoButNotBoth(_ driver: TestDriver) async throws {
        let first = makeKey("first", role: "admin")
        let second = makeKey("second", role: "admin")
        try await withStore(driver, [first, second]) { store async throws in
            var revoked = first
            revoked.isActive = false
            revoked.updatedAt = now
            #expect(try await store.mutateGuarded(id: first.id, at: now, .revoke) == .done(revoked))
            #expect(try await store.find(id: first.id) == revoked)

            #expect(try await store.mutateGuarded(id: second.id, at: now, .revoke) == .wouldRemoveLastAdmin)
            #expect(try await store.mutateGuarded(id: second.id, at: now, .delete) == .wouldRemoveLastAdmin)
            // The already revoked one can still be deleted: it was not usable anyway.
            #expect(try await store.mutateGuarded(id: first.id, at: now, .delete) == .done(nil))
            #expect(try await store.find(id: first.id) == nil)
        }
    }

    @Test(arguments: TestDriver.available) func aScopedAdminDoesNotCount(_ driver: TestDriver) async throws {
        let root = makeKey("root", role: "admin")
        let sessionAdmin = makeKey("session-admin", role: "admin", allowedSessions: ["alpha"])
        let chatAdmin = makeKey("chat-admin", role: "admin", allowedChats: ["1@c.us"])
        let ipAdmin = makeKey("ip-admin", role: "admin", allowedIps: ["10.0.0.1"])
        try await withStore(driver, [root, sessionAdmin, chatAdmin, ipAdmin]) { store async throws in
            #expect(try await store.mutateGuarded(id: root.id, at: now, .revoke) == .wouldRemoveLastAdmin)
            // The scoped ones themselves may go freely.
            #expect(try await store.mutateGuarded(id: sessionAdmin.id, at: now, .delete) == .done(nil))
        }
    }

    @Test(arguments: TestDriver.available) func emptyScopeListsCountAsUnrestricted(_ driver: TestDriver) async throws {
        let root = makeKey("root", role: "admin")
        let other = makeKey("other", role: "admin", allowedIps: [], allowedSessions: [], allowedChats: [])
        try await withStore(driver, [root, other]) { store async throws in
            #expect(try await store.mutateGuarded(id: root.id, at: now, .delete) == .done(nil))
        }
    }

    @Test(arguments: TestDriver.available) func anExpiredOrInactiveAdminDoesNotCount(_ driver: TestDriver) async throws {
        let root = makeKey("root", role: "admin")
        let expired = makeKey("expired", role: "admin", expiresAt: now.addingTimeInterval(-60))
        let expiringNow = makeKey("expiring-now", role: "admin", expiresAt: now)
        let inactive = makeKey("inactive", role: "admin", isActive: false)
        try await withStore(driver, [root, expired, expiringNow, inactive]) { store async throws in
            #expect(try await store.mutateGuarded(id: root.id, at: now, .revoke) == .wouldRemoveLastAdmin)
        }
    }

    @Test(arguments: TestDriver.available) func aDeploymentWithoutAUsableAdminIsNotLockedOut(_ driver: TestDriver) async throws {
        let scopedAdmin = makeKey("scoped", role: "admin", allowedSessions: ["alpha"])
        let operatorKey = makeKey("worker")
        try await withStore(driver, [scopedAdmin, operatorKey]) { store async throws in
            #expect(try await store.mutateGuarded(id: operatorKey.id, at: now, .revoke) != .wouldRemoveLastAdmin)
            #expect(try await store.mutateGuarded(id: scopedAdmin.id, at: now, .delete) == .done(nil))
        }
    }

    @Test(arguments: TestDriver.available) func promotingAnotherKeyAllowsRemovingTheOldAdmin(_ driver: TestDriver) async throws {
        let root = makeKey("root", role: "admin")
        let candidate = makeKey("candidate")
        try await withStore(driver, [root, candidate]) { store async throws in
            var promoted = candidate
            promoted.role = "admin"
            #expect(try await store.mutateGuarded(id: candidate.id, at: now, .update(promoted)) == .done(promoted))
            #expect(try await store.mutateGuarded(id: root.id, at: now, .revoke) != .wouldRemoveLastAdmin)
        }
    }

    @Test(arguments: TestDriver.available) func anUnknownIdIsNotFound(_ driver: TestDriver) async throws {
        try await withStore(driver, [makeKey("root", role: "admin")]) { store async throws in
            #expect(try await store.mutateGuarded(id: "missing", at: now, .revoke) == .notFound)
            #expect(try await store.mutateGuarded(id: "missing", at: now, .delete) == .notFound)
            let error = await #expect(throws: PersistenceError.self) {
                _ = try await store.updateGuarded(makeKey("ghost"), unlessNoUsableAdminRemainsAt: now)
            }
            #expect(error?.isNotFound == true)
        }
    }

    @Test(arguments: TestDriver.available) func updateGuardedReportsRefusalAsFalse(_ driver: TestDriver) async throws {
        let admin = makeKey("root", role: "admin")
        try await withStore(driver, [admin]) { store async throws in
            var demoted = admin
            demoted.role = "viewer"
            #expect(try await !store.updateGuarded(demoted, unlessNoUsableAdminRemainsAt: now))
            var renamed = admin
            renamed.name = "still-root"
            #expect(try await store.updateGuarded(renamed, unlessNoUsableAdminRemainsAt: now))
            #expect(try await store.find(id: admin.id)?.name == "still-root")
        }
    }

    @Test(arguments: TestDriver.available) func theUpdateTargetsTheGivenIdEvenIfTheRecordSaysOtherwise(_ driver: TestDriver) async throws {
        let admin = makeKey("root", role: "admin")
        let other = makeKey("other")
        try await withStore(driver, [admin, other]) { store async throws in
            var edited = other
            edited.id = admin.id  // a stale or forged id in the body must not redirect the write
            edited.role = "admin"
            edited.name = "other-edited"
            let result = try await store.mutateGuarded(id: other.id, at: now, .update(edited))
            guard case .done(let stored?) = result else {
                Issue.record("expected the update to apply, got \(result)")
                return
            }
            #expect(stored.id == other.id)
            #expect(try await store.find(id: admin.id) == admin)
        }
    }

    @Test(arguments: TestDriver.available) func concurrentRevocationsOfTheLastTwoAdminsCannotBothSucceed(_ driver: TestDriver) async throws {
        for _ in 0..<10 {
            let first = makeKey("first", role: "admin")
            let second = makeKey("second", role: "admin")
            try await withStore(driver, [first, second]) { store async throws in
                async let a = store.mutateGuarded(id: first.id, at: now, .revoke)
                async let b = store.mutateGuarded(id: second.id, at: now, .delete)
                let outcomes = try await [a, b]
                #expect(outcomes.filter { $0 == .wouldRemoveLastAdmin }.count == 1)
                let remaining = try await store.list().filter { $0.isUsableUnrestrictedAdmin(at: now) }
                #expect(remaining.count == 1)
            }
        }
    }
}
