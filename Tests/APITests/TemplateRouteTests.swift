import Engines
import Foundation
import Persistence
import Simulator
import Testing
import TestSupport

/// Message templates (reference 2.8) on both data databases, and `send-template` through the
/// native engine to a simulated phone, which decrypts the rendered text.
@Suite(.timeLimit(.minutes(2))) struct TemplateRouteTests {
    static let alice = "15550200401"
    static let bob = "15550200402"

    @Test(arguments: DataBackend.available)
    func templatesAreCreatedListedUpdatedAndDeleted(_ backend: DataBackend) async throws {
        let world = try await LinkWorld.start(backend, phones: [Self.alice])
        let gateway = world.gateway
        let id = try await world.createAndStart("alice")
        let base = "/api/sessions/\(id)/templates"

        let created = try await gateway.request("POST", base, body: #"{"name":"welcome","body":"Hi {{name}}","header":"Hello"}"#)
        #expect(created.status == 201, "\(created.text)")
        let first = created.object
        let firstID = try #require(first["id"] as? String)
        #expect(first["sessionId"] as? String == id)
        #expect(first["name"] as? String == "welcome")
        #expect(first["body"] as? String == "Hi {{name}}")
        #expect(first["header"] as? String == "Hello")
        #expect(first["footer"] is NSNull, "an absent footer is null")
        #expect(first["createdAt"] as? String != nil && first["updatedAt"] as? String != nil)

        let duplicate = try await gateway.request("POST", base, body: #"{"name":"welcome","body":"again"}"#)
        #expect(duplicate.status == 409, "\(duplicate.text)")
        #expect(duplicate.object["message"] as? String == "Template with name 'welcome' already exists")

        let second = try await gateway.request("POST", base, body: #"{"name":"bye","body":"Bye","footer":"-- shop"}"#)
        let secondID = try #require(second.object["id"] as? String)
        let listed = try await gateway.request("GET", base)
        #expect(listed.array.compactMap { $0["id"] as? String } == [secondID, firstID], "newest first")

        let fetched = try await gateway.request("GET", "\(base)/\(firstID)")
        #expect(fetched.object["name"] as? String == "welcome")
        let missing = try await gateway.request("GET", "\(base)/nope")
        #expect(missing.status == 404)
        #expect(missing.object["message"] as? String == "Template with id 'nope' not found")

        let updated = try await gateway.request("PUT", "\(base)/\(firstID)", body: #"{"body":"Welcome {{name}}","header":null}"#)
        #expect(updated.status == 200, "\(updated.text)")
        #expect(updated.object["body"] as? String == "Welcome {{name}}")
        #expect(updated.object["header"] is NSNull, "null clears the header")
        #expect(updated.object["name"] as? String == "welcome", "fields not given are kept")
        #expect((updated.object["updatedAt"] as? String ?? "") > (first["updatedAt"] as? String ?? "~"))
        let renamed = try await gateway.request("PUT", "\(base)/\(firstID)", body: #"{"name":"bye"}"#)
        #expect(renamed.status == 409, "\(renamed.text)")

        let deleted = try await gateway.request("DELETE", "\(base)/\(secondID)")
        #expect(deleted.status == 204)
        #expect(try await gateway.request("GET", "\(base)/\(secondID)").status == 404)
        #expect(try await gateway.request("DELETE", "\(base)/\(secondID)").status == 404)
        await world.stop()
    }

    @Test func badBodiesAndUnknownSessionsAreRefused() async throws {
        let world = try await LinkWorld.start(.sqlite, phones: [Self.alice])
        let gateway = world.gateway
        let id = try await world.createAndStart("alice")
        let base = "/api/sessions/\(id)/templates"
        let cases: [(String, String)] = [
            (#"{"body":"x"}"#, "name should not be empty"),
            (#"{"name":"a","body":""}"#, "body should not be empty"),
            (#"{"name":"a","body":"\#(String(repeating: "x", count: 4_097))"}"#, "body must be shorter than or equal to 4096 characters"),
            (#"{"name":"\#(String(repeating: "n", count: 101))","body":"x"}"#, "name must be shorter than or equal to 100 characters"),
            (#"{"name":"a","body":"x","header":7}"#, "header must be a string"),
            (#"{"name":"a","body":"x","color":"red"}"#, "property color should not exist"),
        ]
        for (body, message) in cases {
            let response = try await gateway.request("POST", base, body: body)
            #expect(response.status == 400, "\(body): \(response.text)")
            #expect((response.object["message"] as? [String])?.contains(message) == true, "\(body): \(response.text)")
        }
        #expect(try await gateway.request("GET", base).array.isEmpty, "nothing refused was stored")
        let unknown = try await gateway.request("POST", "/api/sessions/nope/templates", body: #"{"name":"a","body":"x"}"#)
        #expect(unknown.status == 404, "\(unknown.text)")
        let send = try await gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-template", body: #"{"chatId":"\#(Self.bob)","vars":{"a":"b"}}"#)
        #expect(send.status == 400, "\(send.text)")
        let noTemplate = try await gateway.request(
            "POST", "/api/sessions/\(id)/messages/send-template", body: #"{"chatId":"\#(Self.bob)","templateName":"ghost"}"#)
        #expect(noTemplate.status == 404, "\(noTemplate.text)")
        #expect(noTemplate.object["message"] as? String == "Template with name 'ghost' not found")
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func aRenderedTemplateReachesThePhone(_ backend: DataBackend) async throws {
        var limits = TestLimits()
        limits.templateRenderMaxCharacters = 200
        let world = try await LinkWorld.start(backend, phones: [Self.alice, Self.bob], limits: limits)
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        let gateway = world.gateway
        let created = try await gateway.request(
            "POST", "/api/sessions/\(id)/templates",
            body: #"{"name":"order","header":"Order {{ order }}","body":"Dear {{name}}, {{count}} items ship {{when}}.","footer":"Thanks"}"#)
        let templateID = try #require(created.object["id"] as? String, "\(created.text)")
        func send(_ body: String, key: String? = nil) async throws -> TestResponse {
            try await gateway.request(
                "POST", "/api/sessions/\(id)/messages/send-template", headers: key.map { [("Idempotency-Key", $0)] } ?? [], body: body)
        }
        let byName = try await send(
            #"{"chatId":"\#(Self.bob)","templateName":"order","vars":{"order":"A-17","name":"Bob","count":3,"when":"today"}}"#)
        #expect(byName.status == 201, "\(byName.text)")
        let byNameID = try #require(byName.object["messageId"] as? String)
        let byID = try await send(#"{"chatId":"\#(Self.bob)","templateId":"\#(templateID)","vars":{"name":"Bob"}}"#, key: "t-1")
        #expect(byID.status == 201, "\(byID.text)")
        let byIDMessage = try #require(byID.object["messageId"] as? String)

        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first { $0.id == byNameID }?.body == "Order A-17\n\nDear Bob, 3 items ship today.\n\nThanks")
        #expect(
            inbox.first { $0.id == byIDMessage }?.body == "Order {{ order }}\n\nDear Bob, {{count}} items ship {{when}}.\n\nThanks",
            "placeholders without a value stay as written")

        let replay = try await send(#"{"chatId":"\#(Self.bob)","templateId":"\#(templateID)","vars":{"name":"Bob"}}"#, key: "t-1")
        #expect(replay.header("Idempotent-Replayed") == "true")
        #expect(replay.object["messageId"] as? String == byIDMessage)
        #expect(try await world.simulator.inbox(of: Self.bob).count == inbox.count, "the retry sent nothing")

        let long = try await send(
            #"{"chatId":"\#(Self.bob)","templateName":"order","vars":{"name":"\#(String(repeating: "B", count: 300))"}}"#)
        #expect(long.status == 400, "\(long.text)")
        #expect(long.object["message"] as? String == "Rendered template exceeds 200 characters")

        let stored = try await gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(byNameID)")
        #expect((stored.object["messages"] as? [[String: Any]])?.first?["body"] as? String == "Order A-17\n\nDear Bob, 3 items ship today.\n\nThanks")

        _ = try await gateway.request("POST", "/api/sessions/\(id)/stop")
        let removed = try await gateway.request("DELETE", "/api/sessions/\(id)")
        #expect(removed.status == 204, "\(removed.text)")
        var left: Int64 = -1
        for _ in 0..<100 {
            left = try await gateway.data.query("SELECT COUNT(*) AS n FROM templates", []).first?.int("n") ?? -1
            if left == 0 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(left == 0, "a deleted session's templates go with it")
        await world.stop()
    }

    @Test func placeholdersAreSubstitutedByName() {
        let values = ["a": "1", "b": "{{a}}"]
        #expect(MessageTemplates.substitute("x {{a}} {{ b }} {{c}}", values) == "x 1 {{a}} {{c}}", "values are not re-expanded")
        #expect(MessageTemplates.substitute("{{a}}{{a}}", values) == "11")
        #expect(MessageTemplates.substitute("open {{a", values) == "open {{a")
        #expect(MessageTemplates.substitute("}} {{a}} {{", values) == "}} 1 {{")
        #expect(MessageTemplates.substitute("none", [:]) == "none")
        #expect(MessageTemplates.substitute("ünï {{a}} 🎉", values) == "ünï 1 🎉")
    }
}
