import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// The non-media content kinds both ways: locations, contact cards, replies, mentions,
/// reactions, and the phone's revokes and edits.
@Suite(.timeLimit(.minutes(1))) struct NativeMessageKindsTests {
    static let bob = "15557654323"

    private func linkedWorld() async throws -> (SimulatorWorld, NativeEngine) {
        let (world, engine, _) = try await SimulatorWorld.linked(contacts: [(Self.bob, "Bob")])
        return (world, engine)
    }

    @Test func locationsContactsRepliesMentionsAndReactionsReachThePhone() async throws {
        let (world, engine) = try await linkedWorld()
        let chat = "\(Self.bob)@c.us"
        let first = try await engine.sendText(chatID: chat, text: "first")
        _ = try await engine.send(
            OutgoingMessage(chatID: chat, content: .location(latitude: 52.52, longitude: 13.405, description: "Berlin", address: nil)))
        _ = try await engine.send(OutgoingMessage(chatID: chat, content: .contact(name: "Carol", number: "+1 555 000 1111")))
        _ = try await engine.send(OutgoingMessage(chatID: chat, content: .text("a reply"), quotedMessageID: first.messageID))
        _ = try await engine.send(OutgoingMessage(chatID: chat, content: .text("hi @\(Self.bob)"), mentions: [chat]))
        _ = try await engine.send(OutgoingMessage(chatID: chat, content: .reaction(messageID: first.messageID, emoji: "👍")))
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.map(\.type) == ["text", "location", "contact", "text", "text", "reaction"])
        #expect(inbox.map(\.body) == ["first", "Berlin", "Carol", "a reply", "hi @\(Self.bob)", "👍"])
        // A reaction is not stored as a message; the others are.
        #expect(world.messages.messages.map(\.type) == ["text", "location", "contact", "text", "text"])
        // Replies and reactions to a message that is not in the chat are refused before sending.
        await #expect(throws: EngineError.self) {
            try await engine.send(OutgoingMessage(chatID: chat, content: .text("x"), quotedMessageID: "3EB0NOPE"))
        }
        await #expect(throws: EngineError.self) {
            try await engine.send(OutgoingMessage(chatID: chat, content: .reaction(messageID: "3EB0NOPE", emoji: "👎")))
        }
        #expect(try await world.simulator.inbox(of: Self.bob).count == 6)
        await world.shutdown(engine)
    }

    @Test func thePhonesReactionsRevokesEditsAndCardsArrive() async throws {
        let (world, engine) = try await linkedWorld()
        let alice = SimulatorWorld.phone
        let original = try await world.simulator.sendMessage(from: Self.bob, to: alice, text: "original")
        try await waitUntil { world.messages.messages.count == 1 }
        func send(_ body: [String: Any]) async throws {
            var body = body
            body["to"] = alice
            _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        }
        try await send(["kind": "reaction", "targetId": original.id, "targetFromMe": true, "emoji": "❤️"])
        try await send(["kind": "edit", "targetId": original.id, "text": "edited"])
        try await send(["kind": "revoke", "targetId": original.id])
        try await send(["kind": "location", "latitude": 48.85, "longitude": 2.35, "name": "Paris"])
        try await send(["kind": "contact", "name": "Dave", "number": "15550004444"])
        try await send(["kind": "text", "text": "replying", "targetId": original.id])
        try await waitUntil { world.messages.changes.count == 3 && world.messages.messages.count == 4 }
        #expect(world.messages.changes.map(\.kind) == [.reaction(emoji: "❤️"), .edit(body: "edited"), .revoke])
        #expect(world.messages.changes.allSatisfy { $0.targetID == original.id && $0.chatID == "\(Self.bob)@c.us" })
        #expect(world.messages.messages.dropFirst().map(\.type) == ["location", "contact", "text"])
        #expect(world.messages.messages.dropFirst().map(\.body) == ["Paris", "Dave", "replying"])
        await world.shutdown(engine)
    }

    @Test func aPollGoesOutAndTheVotesComeBackDecrypted() async throws {
        let (world, engine) = try await linkedWorld()
        let poll = try await engine.send(
            OutgoingMessage(
                chatID: "\(Self.bob)@c.us", content: .poll(name: "Colour?", options: ["Red", "Blue", "Green"], allowMultipleAnswers: true)))
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first?.type == "poll")
        #expect(inbox.first?.body == "Colour?")
        func vote(_ options: [String]) async throws {
            let body: [String: Any] = ["to": SimulatorWorld.phone, "kind": "vote", "targetId": poll.messageID, "options": options]
            _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        }
        try await vote(["Blue"])
        try await vote(["Red", "Green"])
        try await waitUntil { world.messages.changes.count == 2 }
        #expect(world.messages.changes.map(\.kind) == [.pollVote(options: ["Blue"]), .pollVote(options: ["Red", "Green"])])
        #expect(world.messages.changes.allSatisfy { $0.targetID == poll.messageID && $0.senderID == "\(Self.bob)@c.us" })
        #expect(world.messages.messages.first?.metadata?["poll"]?["options"] == ["Red", "Blue", "Green"])
        await world.shutdown(engine)
    }
}
