import Engines
import Foundation
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Message actions and contacts on the native engine, checked at the simulated phones: edits,
/// revokes, forwards and poll votes arrive and are applied there; contacts are learned from
/// what the link sees; profile pictures come from the server's `w:profile:picture` iq.
@Suite(.timeLimit(.minutes(1))) struct NativeActionsTests {
    static let bob = "15557654331"
    static let carol = "15557654332"
    static var bobChat: String { "\(bob)@c.us" }

    private func linkedWorld() async throws -> (SimulatorWorld, NativeEngine) {
        let (world, engine, _) = try await SimulatorWorld.linked(contacts: [(Self.bob, "Bob"), (Self.carol, "Carol")])
        return (world, engine)
    }

    @Test func editsAndRevokesOfOurMessagesAreAppliedAtThePhone() async throws {
        let (world, engine) = try await linkedWorld()
        let draft = try await engine.sendText(chatID: Self.bobChat, text: "draft")
        let kept = try await engine.sendText(chatID: Self.bobChat, text: "kept")
        let edited = try await engine.editMessage(chatID: Self.bobChat, messageID: draft.messageID, body: "final", mentions: [])
        #expect(edited.messageID == draft.messageID)
        #expect(edited.timestamp == world.messages.messages.first { $0.id == draft.messageID }?.timestamp)
        var inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first { $0.id == draft.messageID }?.body == "final")
        #expect(inbox.first { $0.id == draft.messageID }?.edited == true)
        try await engine.deleteMessage(chatID: Self.bobChat, messageID: kept.messageID, forEveryone: true)
        inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.first { $0.id == kept.messageID }?.type == "revoked")
        #expect(inbox.first { $0.id == kept.messageID }?.body == "")
        #expect(inbox.map(\.type) == ["text", "revoked", "edited", "revoked"])
        #expect(inbox.dropFirst(2).map(\.target) == [draft.messageID, kept.messageID])
        // The stored rows change with the same kinds an inbound edit and revoke make.
        #expect(world.messages.changes.map(\.kind) == [.edit(body: "final"), .revoke])
        #expect(world.messages.changes.allSatisfy { $0.fromMe && $0.chatID == Self.bobChat })
        #expect(world.messages.changes.map(\.targetID) == [draft.messageID, kept.messageID])
        await world.shutdown(engine)
    }

    @Test func othersMessagesCannotBeEditedOrRevokedButCanBeDeletedHere() async throws {
        let (world, engine) = try await linkedWorld()
        let theirs = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "Bob's")
        try await waitUntil { world.messages.messages.count == 1 }
        let before = try await world.simulator.inbox(of: Self.bob).count
        let edit = await #expect(throws: EngineError.self) {
            _ = try await engine.editMessage(chatID: Self.bobChat, messageID: theirs.id, body: "mine now", mentions: [])
        }
        #expect(edit?.kind == .forbidden)
        let revoke = await #expect(throws: EngineError.self) {
            try await engine.deleteMessage(chatID: Self.bobChat, messageID: theirs.id, forEveryone: true)
        }
        #expect(revoke?.kind == .forbidden)
        // Unknown, or in another chat: not found.
        let unknown = await #expect(throws: EngineError.self) {
            try await engine.deleteMessage(chatID: Self.bobChat, messageID: "3EB0NOPE", forEveryone: true)
        }
        #expect(unknown?.kind == .notFound)
        let elsewhere = await #expect(throws: EngineError.self) {
            _ = try await engine.editMessage(chatID: "\(Self.carol)@c.us", messageID: theirs.id, body: "x", mentions: [])
        }
        #expect(elsewhere?.kind == .notFound)
        try await engine.deleteMessage(chatID: Self.bobChat, messageID: theirs.id, forEveryone: false)
        #expect(world.messages.changes.map(\.kind) == [.deleteForMe])
        #expect(try await world.simulator.inbox(of: Self.bob).count == before, "nothing went to the phone")
        await world.shutdown(engine)
    }

    @Test func aForwardSendsTheStoredContentMarkedAsForwarded() async throws {
        let (world, engine) = try await linkedWorld()
        let original = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "pass it on")
        try await waitUntil { world.messages.messages.count == 1 }
        let forwarded = try await engine.forward(fromChatID: Self.bobChat, toChatID: "\(Self.carol)@c.us", messageID: original.id)
        let inbox = try await world.simulator.inbox(of: Self.carol)
        #expect(inbox.map(\.body) == ["pass it on"])
        #expect(inbox.first?.id == forwarded.messageID)
        #expect(inbox.first?.forwarded == true)
        #expect(world.messages.messages.last?.chatID == "\(Self.carol)@c.us")
        #expect(world.messages.messages.last?.fromMe == true)
        let wrongChat = await #expect(throws: EngineError.self) {
            _ = try await engine.forward(fromChatID: "\(Self.carol)@c.us", toChatID: Self.bobChat, messageID: original.id)
        }
        #expect(wrongChat?.kind == .notFound)
        await world.shutdown(engine)
    }

    @Test func aVoteOnThePhonesPollIsSealedWithThePollsSecret() async throws {
        let (world, engine) = try await linkedWorld()
        let body: [String: Any] = ["to": SimulatorWorld.phone, "kind": "poll", "name": "Lunch?", "options": ["Pizza", "Sushi", "Soup"]]
        let poll = try await world.simulator.sendMessage(from: Self.bob, json: Array(try JSONSerialization.data(withJSONObject: body)))
        try await waitUntil { world.messages.messages.count == 1 }
        #expect(try await engine.votePoll(chatID: Self.bobChat, pollMessageID: poll.id, options: ["Soup", "Pizza"]) == .voted)
        let vote = try #require(try await world.simulator.inbox(of: Self.bob).last)
        #expect(vote.type == "poll_vote")
        #expect(vote.target == poll.id)
        #expect(vote.options == ["Pizza", "Soup"], "opened by the phone with its poll's secret, in the poll's order")
        #expect(world.messages.changes.map(\.kind) == [.pollVote(options: ["Pizza", "Soup"])])
        let refused = try await engine.votePoll(chatID: Self.bobChat, pollMessageID: poll.id, options: ["Curry"])
        #expect(refused == .unknownOptions(validOptions: ["Pizza", "Sushi", "Soup"]))
        #expect(try await world.simulator.inbox(of: Self.bob).count == 1, "a refused vote sends nothing")
        let noPoll = await #expect(throws: EngineError.self) {
            _ = try await engine.votePoll(chatID: Self.bobChat, pollMessageID: "3EB0NOPE", options: [])
        }
        #expect(noPoll?.kind == .notFound)
        await world.shutdown(engine)
    }

    @Test func contactsAreLearnedAndPicturesAskedOfTheServer() async throws {
        let (world, engine) = try await linkedWorld()
        _ = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "hello")
        try await waitUntil { (try await engine.contacts()).contains { $0.pushName == "Bob" } }
        #expect(try await engine.contact(id: Self.bobChat) == EngineContact(id: Self.bobChat, pushName: "Bob", phone: Self.bob))
        #expect(try await engine.contact(id: "\(Self.carol)@c.us") == nil)
        // A number found on WhatsApp becomes a contact too, without a push name yet.
        #expect(try await engine.checkNumber(Self.carol) == "\(Self.carol)@c.us")
        try await waitUntil { try await engine.contact(id: "\(Self.carol)@c.us") != nil }
        #expect(try await engine.contacts().map(\.id) == [Self.bobChat, "\(Self.carol)@c.us"])
        try await world.simulator.setProfilePicture(phone: Self.bob, url: "https://pictures.example/bob.jpg")
        #expect(try await engine.profilePictureURL(of: Self.bobChat) == "https://pictures.example/bob.jpg")
        #expect(try await engine.profilePictureURL(of: "\(Self.carol)@c.us") == nil)
        try await world.simulator.setProfilePicture(phone: Self.bob, url: nil)
        #expect(try await engine.profilePictureURL(of: Self.bobChat) == nil)
        await world.shutdown(engine)
    }
}
