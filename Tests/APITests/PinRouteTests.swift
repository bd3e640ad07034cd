import Engines
import Foundation
import Simulator
import Testing
import TestSupport

/// Pin and unpin in chat (`pinInChatMessage`, `edit="2"`) both ways through the native engine
/// and a simulated phone, the stored row's `metadata.pinned`, and the message routes no engine
/// serves (501).
@Suite(.timeLimit(.minutes(2))) struct PinRouteTests {
    static let alice = "15550200601"
    static let bob = "15550200602"
    static var bobChat: String { "\(bob)@c.us" }

    private func post(_ world: LinkWorld, _ id: String, _ action: String, _ body: String) async throws -> TestResponse {
        try await world.gateway.request("POST", "/api/sessions/\(id)/messages/\(action)", body: body)
    }

    private func metadata(_ world: LinkWorld, _ id: String, _ messageID: String) async throws -> [String: Any]? {
        let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
        return (response.object["messages"] as? [[String: Any]])?.first?["metadata"] as? [String: Any]
    }

    /// Waits for the row of a message a phone sent.
    private func stored(_ world: LinkWorld, _ id: String, _ messageID: String) async throws {
        for _ in 0..<500 {
            let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
            if (response.object["messages"] as? [[String: Any]])?.isEmpty == false { return }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("\(messageID) was never stored")
    }

    private func linked(_ backend: DataBackend) async throws -> (LinkWorld, String) {
        let world = try await LinkWorld.start(backend, phones: [Self.alice, Self.bob])
        let id = try await world.createAndStart("alice")
        try await world.link(id, phone: Self.alice)
        try await world.waitForPreKeys(of: Self.alice)
        return (world, id)
    }

    @Test(arguments: DataBackend.available)
    func ourPinsReachThePhoneAndTheRow(_ backend: DataBackend) async throws {
        let (world, id) = try await linked(backend)
        let sent = try await post(world, id, "send-text", #"{"chatId":"\#(Self.bobChat)","text":"remember this"}"#)
        let ours = try #require(sent.object["messageId"] as? String)
        let theirs = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "and this")
        try await stored(world, id, theirs.id)

        let pinned = try await post(world, id, "pin", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(ours)","durationSeconds":604800}"#)
        #expect(pinned.status == 200, "\(pinned.text)")
        #expect(pinned.object["success"] as? Bool == true)
        let pinnedTheirs = try await post(world, id, "pin", #"{"chatId":"\#(Self.bob)","messageId":"\#(theirs.id)"}"#)
        #expect(pinnedTheirs.status == 200, "\(pinnedTheirs.text)")
        var inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first { $0.id == ours }?.pinnedSeconds == 604_800, "Bob's phone shows our message pinned for a week")
        #expect(inbox.filter { $0.type == "pin" }.map(\.target) == [ours, theirs.id])
        let kept = try #require(try await metadata(world, id, ours)?["pinned"] as? [String: Any])
        let at = try #require(kept["at"] as? Int)
        #expect(kept["until"] as? Int == at + 604_800)
        #expect(kept["by"] as? String == "\(Self.alice)@c.us")
        let theirsKept = try #require(try await metadata(world, id, theirs.id)?["pinned"] as? [String: Any])
        #expect((theirsKept["until"] as? Int ?? 0) - (theirsKept["at"] as? Int ?? 0) == 86_400, "a day by default")

        let unpinned = try await post(world, id, "unpin", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(ours)"}"#)
        #expect(unpinned.status == 200, "\(unpinned.text)")
        inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first { $0.id == ours }?.pinnedSeconds == 0)
        #expect(try await metadata(world, id, ours)?["pinned"] == nil)
        await world.stop()
    }

    @Test func aPinFromThePhoneMarksTheRowWithoutAMessageOfItsOwn() async throws {
        let (world, id) = try await linked(.sqlite)
        let sent = try await post(world, id, "send-text", #"{"chatId":"\#(Self.bobChat)","text":"pin me"}"#)
        let ours = try #require(sent.object["messageId"] as? String)
        let body = #"{"to":"\#(Self.alice)","kind":"pin","targetId":"\#(ours)","seconds":2592000}"#
        _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(body.utf8))
        var pinned: [String: Any]?
        for _ in 0..<200 {
            pinned = try await metadata(world, id, ours)?["pinned"] as? [String: Any]
            if pinned != nil { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        let kept = try #require(pinned, "the row never showed the pin")
        #expect(kept["by"] as? String == Self.bobChat)
        #expect((kept["until"] as? Int ?? 0) - (kept["at"] as? Int ?? 0) == 2_592_000)
        let unpin = #"{"to":"\#(Self.alice)","kind":"unpin","targetId":"\#(ours)"}"#
        _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(unpin.utf8))
        for _ in 0..<200 where try await metadata(world, id, ours)?["pinned"] != nil {
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(try await metadata(world, id, ours)?["pinned"] == nil)
        let listed = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?chatId=\(Self.bobChat)")
        let types = (listed.object["messages"] as? [[String: Any]])?.compactMap { $0["type"] as? String }
        #expect(types == ["text"], "pins are not messages of their own: \(types ?? [])")
        await world.stop()
    }

    @Test func badPinsAndUnservedRoutesAnswerClearly() async throws {
        let (world, id) = try await linked(.sqlite)
        let sent = try await post(world, id, "send-text", #"{"chatId":"\#(Self.bobChat)","text":"x"}"#)
        let ours = try #require(sent.object["messageId"] as? String)
        let odd = try await post(world, id, "pin", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(ours)","durationSeconds":60}"#)
        #expect(odd.status == 400, "\(odd.text)")
        #expect((odd.object["message"] as? [String])?.contains("durationSeconds must be one of the following values: 86400, 604800, 2592000") == true)
        #expect(try await post(world, id, "unpin", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(ours)","durationSeconds":86400}"#).status == 400)
        #expect(try await post(world, id, "pin", #"{"chatId":"\#(Self.bobChat)","messageId":"3EB0NOPE"}"#).status == 404)
        #expect(try await post(world, id, "pin", #"{"chatId":"\#(Self.bobChat)"}"#).status == 400)
        #expect(try await world.gateway.request("POST", "/api/sessions/nope/messages/pin", body: #"{"chatId":"1","messageId":"2"}"#).status == 404)

        let history = try await world.gateway.request("GET", "/api/sessions/\(id)/messages/\(Self.bobChat)/history")
        #expect(history.status == 501, "\(history.text)")
        #expect(history.object["statusCode"] as? Int == 501)
        #expect(history.object["error"] as? String == "Not Implemented")
        for route in ["click-button", "send-product", "send-catalog"] {
            let response = try await post(world, id, route, #"{"chatId":"\#(Self.bobChat)"}"#)
            #expect(response.status == 501, "\(route): \(response.text)")
        }
        #expect(try await world.gateway.request("GET", "/api/sessions/nope/messages/\(Self.bobChat)/history").status == 404)
        await world.stop()
    }
}
