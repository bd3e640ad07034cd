import Foundation
import Persistence
import Testing
import TestSupport

/// `/api/sessions*` without an engine: the records, validation, scopes and the 501 for starts.
@Suite(.timeLimit(.minutes(1))) struct SessionRouteTests {
    @Test func createListGetDeleteWithOpenWAsShapes() async throws {
        let gateway = try await TestGateway.start()
        let created = try await gateway.request(
            "POST", "/api/sessions", body: #"{"name":"sales-bot","config":{"maxReconnectAttempts":5,"custom":"kept"}}"#)
        #expect(created.status == 201, "\(created.text)")
        let session = created.object
        let id = try #require(session["id"] as? String)
        #expect(session["status"] as? String == "created")
        #expect(session["engineLoaded"] as? Bool == false)
        #expect(session["phone"] is NSNull && session["lastError"] is NSNull && session["restriction"] is NSNull)
        #expect(session["config"] == nil && session["proxyUrl"] == nil)

        let duplicate = try await gateway.request("POST", "/api/sessions", body: #"{"name":"sales-bot"}"#)
        #expect(duplicate.status == 409)
        #expect(duplicate.object["message"] as? String == "Session with name 'sales-bot' already exists")

        _ = try await gateway.request("POST", "/api/sessions", body: #"{"name":"support"}"#)
        let listed = try await gateway.request("GET", "/api/sessions")
        #expect(listed.array.map { $0["name"] as? String } == ["support", "sales-bot"])
        let byName = try await gateway.request("GET", "/api/sessions?name=sales-bot")
        #expect(byName.array.count == 1)
        #expect(try await gateway.request("GET", "/api/sessions?name=").status == 400)

        let fetched = try await gateway.request("GET", "/api/sessions/\(id)")
        #expect(fetched.object["name"] as? String == "sales-bot")
        let config = try await gateway.request("GET", "/api/sessions/\(id)/config")
        #expect(config.text == #"{"autoRejectCalls":false,"maxReconnectAttempts":5,"reconnectBaseDelay":5000}"#)
        let patched = try await gateway.request("PATCH", "/api/sessions/\(id)/config", body: #"{"maxReconnectAttempts":null,"reconnectBaseDelay":2000}"#)
        #expect(patched.text == #"{"autoRejectCalls":false,"maxReconnectAttempts":null,"reconnectBaseDelay":2000}"#)

        #expect(try await gateway.request("DELETE", "/api/sessions/\(id)").status == 204)
        let gone = try await gateway.request("GET", "/api/sessions/\(id)")
        #expect(gone.status == 404)
        #expect(gone.object["message"] as? String == "Session with id '\(id)' not found")
        let audit = try await gateway.main.query(#"SELECT "action" FROM audit_logs ORDER BY "createdAt""#, [])
        #expect(audit.compactMap { $0.string("action") }.contains("session_deleted"))
        await gateway.stop()
    }

    @Test(arguments: [
        (#"{"name":"ab"}"#, "name must be longer than or equal to 3 characters"),
        (#"{"name":"has space"}"#, "name must match /^[a-zA-Z0-9-]+$/ regular expression"),
        (#"{"name":"okay","config":{"maxReconnectAttempts":21}}"#, "maxReconnectAttempts must be an integer from 0 to 20"),
        (#"{"name":"okay","config":{"reconnectBaseDelay":10}}"#, "reconnectBaseDelay must be an integer from 1000 to 300000"),
        (#"{"name":"okay","proxyUrl":"ftp://x"}"#, "proxyUrl must be an http, https, socks4 or socks5 URL of at most 255 characters"),
        (#"{"name":"okay","extra":1}"#, "property extra should not exist"),
    ])
    func invalidCreateBodiesAre400(body: String, message: String) async throws {
        let gateway = try await TestGateway.start()
        let response = try await gateway.request("POST", "/api/sessions", body: body)
        #expect(response.status == 400)
        #expect((response.object["message"] as? [String])?.contains(message) == true, "\(response.text)")
        await gateway.stop()
    }

    @Test func lifecycleRoutesWithoutAnEngine() async throws {
        let gateway = try await TestGateway.start()
        let id = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"idle"}"#).object["id"] as? String)
        let start = try await gateway.request("POST", "/api/sessions/\(id)/start")
        #expect(start.status == 501)
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/stop").status == 400)
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/logout").status == 400)
        let qr = try await gateway.request("GET", "/api/sessions/\(id)/qr")
        #expect(qr.status == 400)
        #expect(qr.object["message"] as? String == "Session is not started")
        #expect(try await gateway.request("POST", "/api/sessions/\(id)/pairing-code", body: #"{"phoneNumber":"12"}"#).status == 400)
        await gateway.stop()
    }

    @Test func sessionScopedKeysSeeOnlyTheirSessions() async throws {
        let gateway = try await TestGateway.start()
        let first = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"first"}"#).object["id"] as? String)
        let second = try #require(try await gateway.request("POST", "/api/sessions", body: #"{"name":"second"}"#).object["id"] as? String)
        let scoped = try await gateway.request(
            "POST", "/api/auth/api-keys", body: #"{"name":"scoped op","role":"operator","allowedSessions":["\#(first)"]}"#)
        let key = try #require(scoped.object["apiKey"] as? String)
        let listed = try await gateway.request("GET", "/api/sessions", key: key)
        #expect(listed.array.map { $0["id"] as? String } == [first])
        #expect(try await gateway.request("GET", "/api/sessions/\(first)", key: key).status == 200)
        let other = try await gateway.request("GET", "/api/sessions/\(second)", key: key)
        #expect(other.status == 403)
        #expect(other.object["message"] as? String == "API key not authorized for this session")
        // Creating sessions is deployment-wide.
        #expect(try await gateway.request("POST", "/api/sessions", key: key, body: #"{"name":"third"}"#).status == 403)
        let viewer = try await gateway.request("POST", "/api/auth/api-keys", body: #"{"name":"viewer","role":"viewer"}"#)
        let viewerKey = try #require(viewer.object["apiKey"] as? String)
        #expect(try await gateway.request("DELETE", "/api/sessions/\(first)", key: viewerKey).status == 403)
        let overview = try await gateway.request("GET", "/api/sessions/stats/overview")
        #expect(overview.object["total"] as? Int == 2)
        await gateway.stop()
    }
}
