import Foundation
import Testing
import TestSupport

/// OpenWA's guard: 401 for missing/unknown/revoked/expired keys, 403 for scopes and roles.
@Suite(.timeLimit(.minutes(1))) struct AuthMatrixTests {
    private func createKey(_ gateway: TestGateway, _ body: String) async throws -> (id: String, key: String) {
        let response = try await gateway.request("POST", "/api/auth/api-keys", body: body)
        #expect(response.status == 201, "\(response.text)")
        return (response.object["id"] as? String ?? "", response.object["apiKey"] as? String ?? "")
    }

    @Test func missingKeyIs401() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("GET", "/api/auth/api-keys", key: nil)
        #expect(response.status == 401)
        #expect(response.object["message"] as? String == "API key is required")
        #expect(response.object["error"] as? String == "Unauthorized")
        #expect(response.object["statusCode"] as? Int == 401)
        await gateway.stop()
    }

    @Test func unknownKeyIs401() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("GET", "/api/auth/api-keys", key: "owa_k1_" + String(repeating: "0", count: 64))
        #expect(response.status == 401)
        #expect(response.object["message"] as? String == "Invalid API key")
        await gateway.stop()
    }

    @Test func bearerWorksAndXAPIKeyWinsOverIt() async throws {
        let gateway = try await TestGateway.start()
        let bearer = try await gateway.request(
            "GET", "/api/auth/api-keys", key: nil, headers: [("Authorization", "Bearer \(TestGateway.adminKey)")])
        #expect(bearer.status == 200)
        // Blanks between the scheme and the key do not count as part of the key.
        let padded = try await gateway.request(
            "GET", "/api/auth/api-keys", key: nil, headers: [("Authorization", "Bearer \t \(TestGateway.adminKey)")])
        #expect(padded.status == 200)
        let blank = try await gateway.request("GET", "/api/auth/api-keys", key: nil, headers: [("Authorization", "Bearer \t ")])
        #expect(blank.status == 401)
        let both = try await gateway.request(
            "GET", "/api/auth/api-keys", key: "owa_k1_wrong", headers: [("Authorization", "Bearer \(TestGateway.adminKey)")])
        #expect(both.status == 401)
        let queryKey = try await gateway.request("GET", "/api/auth/api-keys?apiKey=\(TestGateway.adminKey)", key: nil)
        #expect(queryKey.status == 401)
        await gateway.stop()
    }

    @Test func revokedKeyIs401() async throws {
        let gateway = try await TestGateway.start()
        let created = try await createKey(gateway, #"{"name":"to revoke","role":"viewer"}"#)
        #expect(try await gateway.request("POST", "/api/auth/validate", key: created.key).status == 200)
        #expect(try await gateway.request("POST", "/api/auth/api-keys/\(created.id)/revoke").status == 200)
        let response = try await gateway.request("POST", "/api/auth/validate", key: created.key)
        #expect(response.status == 401)
        #expect(response.object["message"] as? String == "API key is revoked")
        await gateway.stop()
    }

    @Test func expiredKeyIs401() async throws {
        let gateway = try await TestGateway.start()
        let created = try await createKey(gateway, #"{"name":"old key","role":"admin","expiresAt":"2020-01-01T00:00:00Z"}"#)
        let response = try await gateway.request("POST", "/api/auth/validate", key: created.key)
        #expect(response.status == 401)
        #expect(response.object["message"] as? String == "API key has expired")
        await gateway.stop()
    }

    @Test func tooLowARoleIs403() async throws {
        let gateway = try await TestGateway.start()
        for role in ["viewer", "operator"] {
            let created = try await createKey(gateway, #"{"name":"\#(role) key","role":"\#(role)"}"#)
            let response = try await gateway.request("GET", "/api/auth/api-keys", key: created.key)
            #expect(response.status == 403)
            #expect(response.object["message"] as? String == "Insufficient permissions. Required: admin")
            #expect(try await gateway.request("POST", "/api/auth/validate", key: created.key).status == 200)
        }
        await gateway.stop()
    }

    @Test func ipScopeRefusesOtherAddressesAndAdmitsItsOwn() async throws {
        let gateway = try await TestGateway.start()
        let elsewhere = try await createKey(gateway, #"{"name":"lan only","role":"admin","allowedIps":["10.0.0.0/8"]}"#)
        let refused = try await gateway.request("POST", "/api/auth/validate", key: elsewhere.key)
        #expect(refused.status == 403)
        let local = try await createKey(gateway, #"{"name":"loopback","role":"admin","allowedIps":["127.0.0.0/24"]}"#)
        #expect(try await gateway.request("POST", "/api/auth/validate", key: local.key).status == 200)
        await gateway.stop()
    }

    @Test func forwardedForCountsOnlyFromTrustedProxies() async throws {
        let untrusted = try await TestGateway.start()
        let key = try await createKey(untrusted, #"{"name":"office","role":"admin","allowedIps":["203.0.113.7"]}"#)
        let spoofed = try await untrusted.request(
            "POST", "/api/auth/validate", key: key.key, headers: [("X-Forwarded-For", "203.0.113.7")])
        #expect(spoofed.status == 403)
        await untrusted.stop()

        let trusted = try await TestGateway.start(trustedProxies: [IPv4RangeLiteral.loopback])
        let officeKey = try await createKey(trusted, #"{"name":"office","role":"admin","allowedIps":["203.0.113.7"]}"#)
        let viaProxy = try await trusted.request(
            "POST", "/api/auth/validate", key: officeKey.key, headers: [("X-Forwarded-For", "203.0.113.7")])
        #expect(viaProxy.status == 200)
        await trusted.stop()
    }

    @Test func sessionScopedKeysAreRefusedOnDeploymentWideRoutes() async throws {
        let gateway = try await TestGateway.start()
        let scoped = try await createKey(gateway, #"{"name":"one session","role":"admin","allowedSessions":["sales"]}"#)
        let response = try await gateway.request("GET", "/api/auth/api-keys", key: scoped.key)
        #expect(response.status == 403)
        #expect(response.object["message"] as? String == "Session-scoped API keys are not permitted on this route")
        let validate = try await gateway.request("POST", "/api/auth/validate", key: scoped.key)
        #expect(validate.object["scoped"] as? Bool == true)
        await gateway.stop()
    }

    @Test func chatRestrictedKeysAreRefusedOutsideChatRoutes() async throws {
        let gateway = try await TestGateway.start()
        let chats = try await createKey(gateway, #"{"name":"one chat","role":"operator","allowedChats":["+628123456789"]}"#)
        let response = try await gateway.request("POST", "/api/auth/validate", key: chats.key)
        #expect(response.status == 403)
        #expect(response.object["message"] as? String == "API key is restricted to selected chats")
        await gateway.stop()
    }
}

import API

enum IPv4RangeLiteral {
    static let loopback = IPv4Range("127.0.0.0/8")!
}
