import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// Webhook management through REST: OpenWA's shapes, validation, SSRF refusal and scope.
@Suite(.timeLimit(.minutes(1))) struct WebhookRouteTests {
    static func gateway(protect: Bool = false, maxPerSession: Int = 16) async throws -> TestGateway {
        var settings = WebhookSettings()
        settings.urlPolicy = WebhookURLPolicy(protect: protect)
        settings.maxPerSession = maxPerSession
        settings.retryDelayMilliseconds = 20
        settings.timeoutMilliseconds = 1_000
        return try await TestGateway.start(webhooks: settings)
    }

    static func session(_ gateway: TestGateway, _ name: String = "hooks") async throws -> String {
        try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"\#(name)"}"#).object["id"] as? String)
    }

    @Test func createReadUpdateDeleteWithOpenWAsShapes() async throws {
        let gateway = try await Self.gateway()
        let id = try await Self.session(gateway)
        let created = try await gateway.request(
            "POST", "/api/sessions/\(id)/webhooks",
            body: #"{"url":"http://127.0.0.1:9/hook","secret":"0123456789abcdef","headers":{"X-Tenant":"t1"}}"#)
        #expect(created.status == 201, "\(created.text)")
        let hook = created.object
        let hookID = try #require(hook["id"] as? String)
        #expect(Set(hook.keys) == [
            "id", "sessionId", "url", "events", "filters", "active", "retryCount", "lastTriggeredAt", "createdAt", "updatedAt",
        ])
        #expect(hook["events"] as? [String] == ["message.received"])
        #expect(hook["retryCount"] as? Int == 3 && hook["active"] as? Bool == true && hook["filters"] is NSNull)

        let updated = try await gateway.request(
            "PUT", "/api/sessions/\(id)/webhooks/\(hookID)",
            body: #"{"events":["session.status","message.received"],"retryCount":5,"filters":{"conditions":[{"field":"isGroup","operator":"is","value":false}]}}"#)
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated.object["events"] as? [String] == ["session.status", "message.received"])
        #expect((updated.object["filters"] as? [String: Any])?["conditions"] != nil)
        #expect(try await gateway.request("PUT", "/api/sessions/\(id)/webhooks/\(hookID)", body: #"{"url":null}"#).status == 400)

        let listed = try await gateway.request("GET", "/api/sessions/\(id)/webhooks")
        #expect(listed.array.count == 1)
        #expect(try await gateway.request("GET", "/api/webhooks").array.first?["id"] as? String == hookID)
        #expect(try await gateway.request("GET", "/api/sessions/\(id)/webhooks/nope").status == 404)
        #expect(try await gateway.request("DELETE", "/api/sessions/\(id)/webhooks/\(hookID)").status == 204)
        #expect(try await gateway.request("GET", "/api/sessions/\(id)/webhooks").array.isEmpty)
        await gateway.stop()
    }

    @Test(arguments: [
        (#"{}"#, "url should not be empty"),
        (#"{"url":"ftp://example.com/x"}"#, "http or https"),
        (#"{"url":"http://user:pw@example.com/x"}"#, "credentials"),
        (#"{"url":"http://127.0.0.1:9/x","events":["message.nope"]}"#, "unknown event"),
        (#"{"url":"http://127.0.0.1:9/x","events":[]}"#, "at least 1"),
        (#"{"url":"http://127.0.0.1:9/x","secret":"short"}"#, "between 16 and 255"),
        (#"{"url":"http://127.0.0.1:9/x","retryCount":9}"#, "greater than 5"),
        (#"{"url":"http://127.0.0.1:9/x","headers":{"Bad Name":"v"}}"#, "header names"),
        (#"{"url":"http://127.0.0.1:9/x","filters":{"conditions":[{"field":"nope","operator":"is","value":"x"}]}}"#, "field must be one of"),
        (#"{"url":"http://127.0.0.1:9/x","color":"red"}"#, "color"),
    ])
    func invalidBodiesAre400(body: String, message: String) async throws {
        let gateway = try await Self.gateway()
        let id = try await Self.session(gateway)
        let response = try await gateway.request("POST", "/api/sessions/\(id)/webhooks", body: body)
        #expect(response.status == 400 && response.text.contains(message), "\(response.text)")
        await gateway.stop()
    }

    @Test func ssrfProtectionRefusesInternalAddressesAndTheCapHolds() async throws {
        let gateway = try await Self.gateway(protect: true, maxPerSession: 1)
        let id = try await Self.session(gateway)
        for url in ["http://127.0.0.1:8080/x", "http://10.1.2.3/x", "http://169.254.169.254/latest", "http://[::1]/x", "http://localhost/x"] {
            let refused = try await gateway.request("POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"\#(url)"}"#)
            #expect(refused.status == 400 && refused.text.contains("SSRF"), "\(url): \(refused.text)")
        }
        let publicHook = try await gateway.request("POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"http://93.184.216.34/x"}"#)
        #expect(publicHook.status == 201, "\(publicHook.text)")
        let second = try await gateway.request("POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"http://93.184.216.35/x"}"#)
        #expect(second.status == 400 && second.text.contains("Maximum number of webhooks"))
        #expect(try await gateway.request("POST", "/api/sessions/missing/webhooks", body: #"{"url":"http://93.184.216.34/x"}"#).status == 404)
        await gateway.stop()
    }

    @Test func deletingTheSessionDeletesItsWebhooks() async throws {
        let gateway = try await Self.gateway()
        let id = try await Self.session(gateway)
        _ = try await gateway.request("POST", "/api/sessions/\(id)/webhooks", body: #"{"url":"http://127.0.0.1:9/x"}"#)
        #expect(try await gateway.request("DELETE", "/api/sessions/\(id)").status == 204)
        for _ in 0..<200 where !(try await gateway.request("GET", "/api/webhooks").array.isEmpty) {
            try await Task.sleep(for: .milliseconds(10))
        }
        #expect(try await gateway.request("GET", "/api/webhooks").array.isEmpty)
        await gateway.stop()
    }
}
