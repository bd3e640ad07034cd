import Foundation
import Testing
import Persistence
import TestSupport

/// Every `/api/auth/api-keys*` route with OpenWA's shapes and codes.
@Suite(.timeLimit(.minutes(1))) struct ApiKeyRouteTests {
    @Test func createReturnsTheKeyOnceWithOpenWAsShape() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request(
            "POST", "/api/auth/api-keys",
            body: #"{"name":"CRM integration","allowedSessions":["sales","support"],"expiresAt":"2030-01-01"}"#)
        #expect(response.status == 201)
        let key = response.object
        let plaintext = try #require(key["apiKey"] as? String)
        #expect(plaintext.count == 71 && plaintext.hasPrefix("owa_k1_"))
        #expect(plaintext.dropFirst(7).allSatisfy { $0.isHexDigit && !$0.isUppercase })
        #expect(key["keyPrefix"] as? String == String(plaintext.prefix(12)))
        #expect(key["role"] as? String == "operator")
        #expect(key["isActive"] as? Bool == true)
        #expect(key["usageCount"] as? Int == 0)
        #expect(key["allowedSessions"] as? [String] == ["sales", "support"])
        #expect(key["allowedIps"] == nil)
        #expect(key["expiresAt"] as? String == "2030-01-01T00:00:00.000Z")
        #expect((key["createdAt"] as? String)?.hasSuffix("Z") == true)
        // The listing never shows the secret.
        let listed = try await gateway.request("GET", "/api/auth/api-keys")
        #expect(listed.status == 200)
        #expect(listed.array.count == 2)
        #expect(listed.array.allSatisfy { $0["apiKey"] == nil })
        #expect(listed.array.first?["name"] as? String == "CRM integration")  // newest first
        await gateway.stop()
    }

    @Test func theStoredHashIsNotThePlaintext() async throws {
        let gateway = try await TestGateway.start()
        let created = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"hashed"}"#)
        let plaintext = try #require(created.object["apiKey"] as? String)
        let rows = try await gateway.main.query(#"SELECT "keyHash" FROM api_keys"#, [])
        let hashes = rows.compactMap { $0.string("keyHash") }
        #expect(hashes.count == 2)
        #expect(!hashes.contains(plaintext))
        #expect(hashes.allSatisfy { $0.count == 64 })
        await gateway.stop()
    }

    @Test func getUpdateRevokeDeleteRoundTrip() async throws {
        let gateway = try await TestGateway.start()
        let created = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"worker","role":"viewer"}"#)
        let id = try #require(created.object["id"] as? String)

        let fetched = try await gateway.request("GET", "/api/auth/api-keys/\(id)")
        #expect(fetched.object["name"] as? String == "worker")

        let updated = try await gateway.request(
            "PUT", "/api/auth/api-keys/\(id)", body: #"{"name":"worker 2","role":"operator","allowedIps":["192.168.1.0/24"]}"#)
        #expect(updated.status == 200)
        #expect(updated.object["name"] as? String == "worker 2")
        #expect(updated.object["role"] as? String == "operator")
        #expect(updated.object["allowedIps"] as? [String] == ["192.168.1.0/24"])

        let cleared = try await gateway.request("PUT", "/api/auth/api-keys/\(id)", body: #"{"allowedIps":null}"#)
        #expect(cleared.object["allowedIps"] == nil)

        let revoked = try await gateway.request("POST", "/api/auth/api-keys/\(id)/revoke")
        #expect(revoked.status == 200)
        #expect(revoked.object["isActive"] as? Bool == false)

        let deleted = try await gateway.request("DELETE", "/api/auth/api-keys/\(id)")
        #expect(deleted.status == 204)
        #expect(deleted.body.isEmpty)
        let gone = try await gateway.request("GET", "/api/auth/api-keys/\(id)")
        #expect(gone.status == 404)
        #expect(gone.object["message"] as? String == "API key with id '\(id)' not found")
        await gateway.stop()
    }

    @Test func theLastUsableAdminCannotBeRevokedDemotedOrDeleted() async throws {
        let gateway = try await TestGateway.start()
        let list = try await gateway.request("GET", "/api/auth/api-keys")
        let adminID = try #require(list.array.first?["id"] as? String)
        #expect(try await gateway.request("POST", "/api/auth/api-keys/\(adminID)/revoke").status == 409)
        #expect(try await gateway.request("DELETE", "/api/auth/api-keys/\(adminID)").status == 409)
        #expect(try await gateway.request("PUT", "/api/auth/api-keys/\(adminID)", body: #"{"role":"viewer"}"#).status == 409)
        #expect(
            try await gateway.request("PUT", "/api/auth/api-keys/\(adminID)", body: #"{"allowedSessions":["x"]}"#).status == 409)
        // With a second admin the first may go.
        let second = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"second admin","role":"admin"}"#)
        let secondKey = try #require(second.object["apiKey"] as? String)
        #expect(try await gateway.request("POST", "/api/auth/api-keys/\(adminID)/revoke", key: secondKey).status == 200)
        #expect(try await gateway.request("GET", "/api/auth/api-keys", key: TestGateway.adminKey).status == 401)
        await gateway.stop()
    }

    @Test func validateDescribesTheCallersKey() async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("POST", "/api/auth/validate")
        #expect(response.status == 200)
        #expect(response.text == #"{"valid":true,"role":"admin","engineType":"baileys","scoped":false}"#)
        await gateway.stop()
    }

    @Test(arguments: [
        (#"{"name":"ab"}"#, "name must be longer than or equal to 3 characters"),
        (#"{"name":"okay","role":"root"}"#, "role must be one of the following values: admin, operator, viewer"),
        (#"{"name":"okay","allowedIps":["999.1.1.1"]}"#, "each value in allowedIps must be an IPv4 address or IPv4 CIDR range"),
        (#"{"name":"okay","allowedSessions":["a b"]}"#, "each value in allowedSessions must be a session id without commas or whitespace"),
        (#"{"name":"okay","expiresAt":"next tuesday"}"#, "expiresAt is not a parseable date"),
        (#"{"name":"okay","isActive":false}"#, "property isActive should not exist"),
        (#"{}"#, "name must be a string"),
    ])
    func invalidBodiesAre400WithClassValidatorMessages(body: String, message: String) async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("POST", "/api/auth/api-keys", body: body)
        #expect(response.status == 400)
        #expect(response.object["error"] as? String == "Bad Request")
        #expect((response.object["message"] as? [String])?.contains(message) == true, "\(response.text)")
        await gateway.stop()
    }

    @Test func malformedJSONAndNonObjectsAre400() async throws {
        let gateway = try await TestGateway.start()
        for body in [#"{"name": "#, "[1,2]", #"{"name":"a\u0000b"}"#] {
            let response = try await gateway.request("POST", "/api/auth/api-keys", body: body)
            #expect(response.status == 400, "\(body)")
        }
        await gateway.stop()
    }

    @Test func productionHidesValidationDetail() async throws {
        let gateway = try await TestGateway.start(validationDetail: false)
        let response = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"x"}"#)
        #expect(response.status == 400)
        #expect(response.text == #"{"statusCode":400,"message":"Bad Request"}"#)
        await gateway.stop()
    }

    @Test func unknownRoutesAre404AndWrongMethods405AsJSON() async throws {
        let gateway = try await TestGateway.start()
        let missing = try await gateway.request("GET", "/api/nope", key: nil)
        #expect(missing.status == 404)
        #expect(missing.text == #"{"statusCode":404,"message":"Cannot GET /api/nope","error":"Not Found"}"#)
        let wrongMethod = try await gateway.request("DELETE", "/api/health", key: nil)
        #expect(wrongMethod.status == 405)
        #expect(wrongMethod.header("allow") == "GET")
        let nul = try await gateway.request("GET", "/api/auth/api-keys/%00")
        #expect(nul.status == 400)
        await gateway.stop()
    }

    @Test func requestIDsAreEchoedOrGenerated() async throws {
        let gateway = try await TestGateway.start()
        let echoed = try await gateway.request("GET", "/api/health/live", key: nil, headers: [("X-Request-ID", "trace-123")])
        #expect(echoed.header("x-request-id") == "trace-123")
        let generated = try await gateway.request("GET", "/api/health/live", key: nil)
        #expect(generated.header("x-request-id")?.isEmpty == false)
        await gateway.stop()
    }
}
