import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport

/// Forward, delete, edit and vote-poll through REST, the native engine and simulated phones,
/// with the stored rows in SQLite or PostgreSQL and the events at a real webhook receiver; and
/// the contact routes.
@Suite(.timeLimit(.minutes(2))) struct MessageActionRouteTests {
    static let alice = "15550200001"
    static let bob = "15550200002"
    static let carol = "15550200003"
    static var bobChat: String { "\(bob)@c.us" }

    private func linked(_ backend: DataBackend) async throws -> (LinkWorld, String, WebhookReceiver) {
        try await LinkWorld.linkedWithWebhooks(
            backend, phones: [Self.alice, Self.bob, Self.carol], linking: Self.alice,
            events: ["message.received", "message.revoked", "message.edited"])
    }

    private func post(_ world: LinkWorld, _ id: String, _ action: String, _ body: String) async throws -> TestResponse {
        try await world.gateway.request("POST", "/api/sessions/\(id)/messages/\(action)", body: body)
    }

    private func row(_ world: LinkWorld, _ id: String, _ messageID: String) async throws -> [String: Any]? {
        let response = try await world.gateway.request("GET", "/api/sessions/\(id)/messages?messageId=\(messageID)")
        return (response.object["messages"] as? [[String: Any]])?.first
    }

    @Test(arguments: DataBackend.available)
    func editDeleteAndForwardReachThePhonesAndTheStoredRows(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let sent = try await post(world, id, "send-text", #"{"chatId":"\#(Self.bobChat)","text":"draft"}"#)
        let draft = try #require(sent.object["messageId"] as? String)
        let edit = try await post(world, id, "edit", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(draft)","body":"final"}"#)
        #expect(edit.status == 200, "\(edit.text)")
        #expect(edit.object["messageId"] as? String == draft)
        #expect(edit.object["timestamp"] as? Int == sent.object["timestamp"] as? Int, "the original send time")
        #expect(try await world.simulator.inbox(of: Self.bob).first { $0.id == draft }?.body == "final")
        #expect(try await row(world, id, draft)?["body"] as? String == "final")
        // Bob's message, forwarded to Carol.
        let theirs = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "pass it on")
        _ = try await receiver.wait("Bob's message") { $0.contains { $0.event == "message.received" } }
        let forward = try await post(
            world, id, "forward", #"{"fromChatId":"\#(Self.bobChat)","toChatId":"\#(Self.carol)","messageId":"\#(theirs.id)"}"#)
        #expect(forward.status == 201, "\(forward.text)")
        let carolInbox = try await world.simulator.inbox(of: Self.carol)
        #expect(carolInbox.map(\.body) == ["pass it on"])
        #expect(carolInbox.first?.forwarded == true)
        #expect(carolInbox.first?.id == forward.object["messageId"] as? String)
        // Deleted for everyone: the phone shows it revoked, the row is cleared, the event goes out.
        let delete = try await post(world, id, "delete", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(draft)"}"#)
        #expect(delete.status == 200, "\(delete.text)")
        #expect(delete.object["success"] as? Bool == true)
        #expect(try await world.simulator.inbox(of: Self.bob).first { $0.id == draft }?.type == "revoked")
        let revokedRow = try #require(try await row(world, id, draft))
        #expect(revokedRow["type"] as? String == "revoked")
        #expect(revokedRow["body"] is NSNull)
        let events = try await receiver.wait("edited and revoked") { deliveries in
            Set(deliveries.map(\.event)).isSuperset(of: ["message.edited", "message.revoked"])
        }
        #expect(events.first { $0.event == "message.edited" }?.data["body"] as? String == "final")
        #expect(events.first { $0.event == "message.edited" }?.data["fromMe"] as? Bool == true)
        #expect(events.first { $0.event == "message.revoked" }?.data["revokedId"] as? String == draft)
        // Deleted only here: the row changes, the phone and the webhook see nothing.
        let local = try await post(world, id, "delete", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(theirs.id)","forEveryone":false}"#)
        #expect(local.status == 200, "\(local.text)")
        #expect(try await row(world, id, theirs.id)?["type"] as? String == "revoked")
        try await Task.sleep(for: .milliseconds(200))
        #expect(receiver.deliveries.filter { $0.event == "message.revoked" }.count == 1)
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func votesAreSealedForThePhoneAndKeptOnThePollsRow(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        let body = #"{"to":"\#(Self.alice)","kind":"poll","name":"Lunch?","options":["Pizza","Sushi"]}"#
        let poll = try await world.simulator.sendMessage(from: Self.bob, json: Array(body.utf8))
        _ = try await receiver.wait("the poll") { $0.contains { $0.event == "message.received" } }
        let vote = try await post(world, id, "vote-poll", #"{"chatId":"\#(Self.bobChat)","pollMessageId":"\#(poll.id)","options":["Sushi"]}"#)
        #expect(vote.status == 200, "\(vote.text)")
        #expect(vote.object["success"] as? Bool == true)
        let atPhone = try await world.simulator.inbox(of: Self.bob).last
        #expect(atPhone?.target == poll.id)
        #expect(atPhone?.options == ["Sushi"])
        let metadata = try await row(world, id, poll.id)?["metadata"] as? [String: Any]
        let votes = (metadata?["poll"] as? [String: Any])?["votes"] as? [String: [String]]
        #expect(votes?["\(Self.alice)@c.us"] == ["Sushi"])
        let wrong = try await post(world, id, "vote-poll", #"{"chatId":"\#(Self.bobChat)","pollMessageId":"\#(poll.id)","options":["Curry"]}"#)
        #expect(wrong.status == 400, "\(wrong.text)")
        #expect(wrong.object["code"] as? String == "POLL_OPTION_NOT_FOUND")
        #expect(wrong.object["validOptions"] as? [String] == ["Pizza", "Sushi"])
        let unknown = try await post(world, id, "vote-poll", #"{"chatId":"\#(Self.bobChat)","pollMessageId":"3EB0NOPE","options":[]}"#)
        #expect(unknown.status == 404, "\(unknown.text)")
        await receiver.stop()
        await world.stop()
    }

    @Test func refusalsCarryOpenWAsStatuses() async throws {
        let (world, id, receiver) = try await linked(.sqlite)
        let theirs = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "Bob's own")
        _ = try await receiver.wait("Bob's message") { $0.contains { $0.event == "message.received" } }
        let cases: [(String, String, Int)] = [
            ("edit", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(theirs.id)","body":"mine now"}"#, 403),
            ("delete", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(theirs.id)","forEveryone":true}"#, 403),
            ("edit", #"{"chatId":"\#(Self.bobChat)","messageId":"3EB0NOPE","body":"x"}"#, 404),
            ("delete", #"{"chatId":"\#(Self.carol)@c.us","messageId":"\#(theirs.id)"}"#, 404),
            ("forward", #"{"fromChatId":"\#(Self.carol)@c.us","toChatId":"\#(Self.bobChat)","messageId":"\#(theirs.id)"}"#, 404),
            ("edit", #"{"chatId":"\#(Self.bobChat)","messageId":"\#(theirs.id)"}"#, 400),
            ("edit", #"{"chatId":"\#(Self.bobChat)","messageId":"x","body":"\#(String(repeating: "a", count: 4_097))"}"#, 400),
            ("delete", #"{"chatId":"\#(Self.bobChat)","messageId":"x","forEveryone":"yes"}"#, 400),
            ("forward", #"{"fromChatId":"\#(Self.bobChat)","messageId":"x"}"#, 400),
            ("vote-poll", #"{"chatId":"\#(Self.bobChat)","pollMessageId":"x","options":"Pizza"}"#, 400),
            ("vote-poll", #"{"chatId":"\#(Self.bobChat)","pollMessageId":"x","options":[],"extra":1}"#, 400),
        ]
        for (action, body, status) in cases {
            let response = try await post(world, id, action, body)
            #expect(response.status == status, "\(action) \(body): \(response.text)")
        }
        let missing = try await post(world, "no-such-session", "delete", #"{"chatId":"\#(Self.bobChat)","messageId":"x"}"#)
        #expect(missing.status == 404, "\(missing.text)")
        #expect(try await world.simulator.inbox(of: Self.bob).isEmpty, "no refusal sent anything")
        // A forward honours Idempotency-Key like the other single sends.
        let path = "/api/sessions/\(id)/messages/forward"
        let forward = #"{"fromChatId":"\#(Self.bobChat)","toChatId":"\#(Self.carol)@c.us","messageId":"\#(theirs.id)"}"#
        let first = try await world.gateway.request("POST", path, headers: [("Idempotency-Key", "fwd-1")], body: forward)
        let retry = try await world.gateway.request("POST", path, headers: [("Idempotency-Key", "fwd-1")], body: forward)
        #expect(first.status == 201, "\(first.text)")
        #expect(retry.header("idempotent-replayed") == "true")
        #expect(try await world.simulator.inbox(of: Self.carol).count == 1, "forwarded once")
        await receiver.stop()
        await world.stop()
    }

    @Test(arguments: DataBackend.available)
    func contactsArePagedLookedUpAndShowTheirPictures(_ backend: DataBackend) async throws {
        let (world, id, receiver) = try await linked(backend)
        _ = try await world.simulator.sendMessage(from: Self.bob, to: Self.alice, text: "hi")
        _ = try await world.simulator.sendMessage(from: Self.carol, to: Self.alice, text: "hi too")
        _ = try await receiver.wait("two messages") { $0.filter { $0.event == "message.received" }.count == 2 }
        var list: [[String: Any]] = []
        for _ in 0..<250 {
            list = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts").array
            if list.count == 2 { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        #expect(list.compactMap { $0["id"] as? String } == [Self.bobChat, "\(Self.carol)@c.us"])
        #expect(list.first?["pushName"] as? String == "Phone 1")
        #expect(list.first?["number"] as? String == Self.bob)
        #expect(list.first?["isMyContact"] as? Bool == false)
        let page = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts?limit=1&offset=1").array
        #expect(page.compactMap { $0["id"] as? String } == ["\(Self.carol)@c.us"])
        let one = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/\(Self.bob)")
        #expect(one.status == 200, "\(one.text)")
        #expect(one.object["pushName"] as? String == "Phone 1")
        let none = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/19990000001@c.us")
        #expect(none.status == 404)
        #expect(none.object["message"] as? String == "Contact 19990000001@c.us not found")
        let phone = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/\(Self.bobChat)/phone")
        #expect(phone.object["phone"] as? String == Self.bob, "\(phone.text)")
        try await world.simulator.setProfilePicture(phone: Self.bob, url: "https://pictures.example/bob.jpg")
        let picture = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/\(Self.bobChat)/profile-picture")
        #expect(picture.object["url"] as? String == "https://pictures.example/bob.jpg", "\(picture.text)")
        let pictures = try await world.gateway.request(
            "GET", "/api/sessions/\(id)/contacts/profile-pictures?ids=\(Self.bobChat),\(Self.carol)@c.us")
        let map = pictures.object["pictures"] as? [String: Any]
        #expect(map?[Self.bobChat] as? String == "https://pictures.example/bob.jpg", "\(pictures.text)")
        #expect(map?["\(Self.carol)@c.us"] is NSNull)
        let noIDs = try await world.gateway.request("GET", "/api/sessions/\(id)/contacts/profile-pictures")
        #expect(noIDs.status == 400)
        let unknownSession = try await world.gateway.request("GET", "/api/sessions/no-such-session/contacts")
        #expect(unknownSession.status == 404)
        await receiver.stop()
        await world.stop()
    }
}
