import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Groups on the native engine against the simulator: metadata iqs, notifications, and sender-key
/// messages both ways, over the real TLS WebSocket, Noise and Signal.
@Suite(.timeLimit(.minutes(1))) struct NativeGroupTests {
    static let alice = SimulatorWorld.phone
    static let bob = "15557654321"
    static let carol = "15550001111"

    private func linkedWorld() async throws -> (SimulatorWorld, NativeEngine, EventRecorder) {
        try await SimulatorWorld.linked(contacts: [(Self.bob, "Bob"), (Self.carol, "Carol")])
    }

    private func groupEvents(_ recorder: EventRecorder) -> [GroupEvent] {
        recorder.all.compactMap { if case .group(let event) = $0 { event } else { nil } }
    }

    @Test func aPhoneGroupMessageIsDecryptedWithTheChainItHandedUs() async throws {
        let (world, engine, recorder) = try await linkedWorld()
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Team", members: [Self.alice, Self.carol])
        // Added by Bob: the engine hears of it as OpenWA's group.join.
        try await waitUntil { groupEvents(recorder).contains { $0.name == "group.join" && $0.groupID == group.id } }
        let join = try #require(groupEvents(recorder).first)
        #expect(join.actorID == "\(Self.bob)@c.us")
        #expect(Set(join.participantIDs) == ["\(Self.alice)@c.us", "\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let first = try await world.simulator.sendMessage(from: Self.bob, to: group.id, text: "hello team")
        #expect(first.devices == 1)
        try await waitUntil { world.messages.messages.count == 1 }
        let message = try #require(world.messages.messages.first)
        #expect(message.id == first.id)
        #expect(message.chatID == group.id)
        #expect(message.from == group.id)
        #expect(message.author == "\(Self.bob)@c.us")
        #expect(message.body == "hello team")
        #expect(!message.fromMe)
        // The second message carries no chain (we hold it already) and still decrypts.
        _ = try await world.simulator.sendMessage(from: Self.bob, to: group.id, text: "second")
        try await waitUntil { world.messages.messages.count == 2 }
        #expect(world.messages.messages.last?.body == "second")
        // Our own phone's group message arrives as ours.
        _ = try await world.simulator.sendMessage(from: Self.alice, to: group.id, text: "typed on the phone")
        try await waitUntil { world.messages.messages.count == 3 }
        let own = try #require(world.messages.messages.last)
        #expect(own.fromMe)
        #expect(own.chatID == group.id)
        #expect(own.author == "\(Self.alice)@c.us")
        try await waitUntil { (try await world.simulator.companions(of: Self.alice).first?.pendingMessages ?? -1) == 0 }
        await world.shutdown(engine)
    }

    @Test func aGroupSendReachesEveryMemberPhoneUnderOneSenderKey() async throws {
        let (world, engine, _) = try await linkedWorld()
        let created = try await engine.createGroup(name: "Plans", participants: ["\(Self.bob)@c.us", "\(Self.carol)"])
        #expect(created.name == "Plans")
        #expect(created.participants.first { $0.id == "\(Self.alice)@c.us" }?.isSuperAdmin == true)
        #expect(Set(created.participants.map(\.id)) == ["\(Self.alice)@c.us", "\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let sent = try await engine.sendText(chatID: created.id, text: "hi all")
        for phone in [Self.bob, Self.carol, Self.alice] {
            let inbox = try await world.simulator.inbox(of: phone)
            #expect(inbox.map(\.id) == [sent.messageID], "phone \(phone)")
            #expect(inbox.first?.body == "hi all")
            #expect(inbox.first?.chat == created.id)
            #expect(inbox.first?.encType == "skmsg")
        }
        let row = try #require(world.messages.messages.first { $0.id == sent.messageID })
        #expect(row.fromMe && row.chatID == created.id && row.author == "\(Self.alice)@c.us")
        // Each member phone's receipt (from the group, naming the member) marks it delivered.
        try await waitUntil { world.messages.acks.contains { $0.ids.contains(sent.messageID) && $0.ack == 2 } }
        // The chain went out once: the next message is only the `skmsg`, and still reads.
        let again = try await engine.sendText(chatID: created.id, text: "again")
        try await waitUntil { try await world.simulator.inbox(of: Self.carol).contains { $0.id == again.messageID } }
        await world.shutdown(engine)
    }

    @Test func managingAGroupThroughItsIqs() async throws {
        let (world, engine, recorder) = try await linkedWorld()
        let group = try await engine.createGroup(name: "Board", participants: ["\(Self.bob)@c.us"])
        let added = try await engine.updateParticipants(group: group.id, action: .add, participants: ["\(Self.carol)@c.us", "\(Self.bob)@c.us", "15559999999@c.us"])
        #expect(added.map(\.success) == [true, false, false])
        #expect(added.map(\.status) == [nil, 409, 404])
        _ = try await engine.updateParticipants(group: group.id, action: .promote, participants: ["\(Self.bob)@c.us"])
        try await engine.setGroupSubject(group: group.id, subject: "Board 2026")
        try await engine.setGroupDescription(group: group.id, description: "Quarterly plans")
        try await engine.updateGroupSettings(group: group.id, settings: GroupSettingsChange(announce: true, locked: true, memberAddMode: "admins"))
        let info = try await engine.group(group.id)
        #expect(info.name == "Board 2026")
        #expect(info.description == "Quarterly plans")
        #expect(info.announce && info.locked && info.memberAddMode == "admins")
        #expect(info.participants.first { $0.id == "\(Self.bob)@c.us" }?.isAdmin == true)
        #expect(info.participants.count == 3)
        let snapshot = try await world.simulator.group(group.id)
        #expect(snapshot.subject == "Board 2026" && snapshot.announce && snapshot.locked)
        let code = try await engine.groupInviteCode(group: group.id, revoke: false)
        let fresh = try await engine.groupInviteCode(group: group.id, revoke: true)
        #expect(code.count == 22 && fresh != code)
        #expect(try await engine.groupInviteInfo(code: fresh).id == group.id)
        await #expect(throws: EngineError.self) { try await engine.groupInviteInfo(code: code) }
        #expect(try await engine.groups().map(\.id) == [group.id])
        // A change by another member reaches us as an event and drops our cached metadata.
        try await world.simulator.setGroupSubject(group.id, actor: Self.bob, subject: "Renamed by Bob")
        try await waitUntil { groupEvents(recorder).contains { $0.changes?["subject"]?.stringValue == "Renamed by Bob" } }
        #expect(try await engine.group(group.id).name == "Renamed by Bob")
        try await engine.leaveGroup(group.id)
        #expect(try await engine.groups().isEmpty)
        await #expect(throws: EngineError.self) { try await engine.group(group.id) }
        await world.shutdown(engine)
    }

    @Test func aMemberWhoIsNotAdminIsRefused() async throws {
        let (world, engine, _) = try await linkedWorld()
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Bob's", members: [Self.alice])
        try await waitUntil { (try? await engine.group(group.id)) != nil }
        do {
            _ = try await engine.updateParticipants(group: group.id, action: .remove, participants: ["\(Self.bob)@c.us"])
            Issue.record("a member removed the admin")
        } catch let error as EngineError {
            #expect(error.kind == .forbidden)
        }
        _ = try await world.simulator.changeGroupParticipants(group.id, actor: Self.bob, action: "add", phones: [Self.carol])
        // Open groups let any member rename them; locked ones only admins.
        try await engine.setGroupSubject(group: group.id, subject: "anyone may rename")
        try await world.simulator.setGroupSetting(group.id, actor: Self.bob, setting: "locked")
        try await world.simulator.setGroupSetting(group.id, actor: Self.bob, setting: "announcement")
        try await waitUntil { (try? await engine.group(group.id).locked) == true }
        await #expect(throws: EngineError.self) { try await engine.setGroupSubject(group: group.id, subject: "not any more") }
        // Admins-only messages: our send is refused before anything is encrypted.
        do {
            _ = try await engine.sendText(chatID: group.id, text: "may I?")
            Issue.record("a member sent to an announcement group")
        } catch let error as EngineError {
            #expect(error.kind == .forbidden)
        }
        #expect(try await world.simulator.inbox(of: Self.bob).isEmpty)
        await #expect(throws: EngineError.self) { try await engine.group("120363000000000000@g.us") }
        await world.shutdown(engine)
    }

    @Test func aLostChainIsRecoveredThroughARetryReceiptAndLeavingRotatesOurs() async throws {
        let (world, engine, _) = try await linkedWorld()
        let group = try await world.simulator.createGroup(by: Self.bob, subject: "Ops", members: [Self.alice, Self.carol])
        _ = try await world.simulator.sendMessage(from: Self.bob, to: group.id, text: "first")
        try await waitUntil { world.messages.messages.count == 1 }
        // Our copy of Bob's chain is lost: the next `skmsg` cannot be read by a fresh engine.
        await engine.stop()
        let keys = try await world.store.load(sessionID: "s1").keys.filter { $0.hasPrefix("signal.senderkey.") }
        #expect(keys.count == 1)
        try await world.store.apply(sessionID: "s1", changes: Dictionary(uniqueKeysWithValues: keys.map { ($0, nil) }))
        let recorder = EventRecorder()
        let fresh = try world.engine(recorder: recorder)
        try await fresh.start()
        _ = try await recorder.readyIndex()
        let second = try await world.simulator.sendMessage(from: Self.bob, to: group.id, text: "after the loss")
        // Retry receipt -> Bob's phone sends its chain again with a fresh message -> stored.
        try await waitUntil { world.messages.messages.contains { $0.id == second.id } }
        #expect(world.messages.messages.first { $0.id == second.id }?.body == "after the loss")
        // Our own chain: handed out with the first send; when Carol leaves, the next send starts a new one.
        _ = try await fresh.sendText(chatID: group.id, text: "before")
        let ownKey = "signal.senderkey.\(group.id)::\(Self.alice).\(try await world.device())"
        let before = try #require(try await world.store.value(sessionID: "s1", key: ownKey))
        _ = try await world.simulator.changeGroupParticipants(group.id, actor: Self.bob, action: "remove", phones: [Self.carol])
        try await waitUntil { (try await world.store.value(sessionID: "s1", key: ownKey)) == nil }
        let after = try await fresh.sendText(chatID: group.id, text: "after Carol left")
        let renewed = try #require(try await world.store.value(sessionID: "s1", key: ownKey))
        #expect(try SenderKeyRecord(serialized: renewed).states.first?.keyID != SenderKeyRecord(serialized: before).states.first?.keyID)
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == after.messageID } }
        #expect(!(try await world.simulator.inbox(of: Self.carol)).contains { $0.id == after.messageID })
        await world.shutdown(fresh)
    }

    @Test func otherKindsInAGroupBothWays() async throws {
        let (world, engine, _) = try await linkedWorld()
        let group = try await engine.createGroup(name: "Kinds", participants: ["\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let poll = try await engine.send(
            OutgoingMessage(chatID: group.id, content: .poll(name: "Lunch?", options: ["Pizza", "Sushi"], allowMultipleAnswers: false)))
        let place = try await engine.send(
            OutgoingMessage(chatID: group.id, content: .location(latitude: 52.52, longitude: 13.405, description: "Here", address: nil)))
        for phone in [Self.bob, Self.carol] {
            let inbox = try await world.simulator.inbox(of: phone)
            #expect(inbox.map(\.type) == ["poll", "location"], "phone \(phone)")
            #expect(inbox.map(\.id) == [poll.messageID, place.messageID])
        }
        // Bob votes, reacts to the location and quotes it: each comes back through his chain.
        for body in [
            #"{"to":"\#(group.id)","kind":"vote","targetId":"\#(poll.messageID)","options":["Sushi"]}"#,
            #"{"to":"\#(group.id)","kind":"reaction","targetId":"\#(place.messageID)","emoji":"🍣","targetFromMe":false}"#,
            #"{"to":"\#(group.id)","kind":"location","latitude":48.85,"longitude":2.35,"name":"Or here"}"#,
            #"{"to":"\#(group.id)","kind":"text","text":"see above","targetId":"\#(place.messageID)"}"#,
        ] {
            _ = try await world.simulator.sendMessage(from: Self.bob, json: Array(body.utf8))
        }
        try await waitUntil { world.messages.changes.count == 2 && world.messages.messages.count == 4 }
        #expect(world.messages.changes.map(\.kind) == [.pollVote(options: ["Sushi"]), .reaction(emoji: "🍣")])
        #expect(world.messages.changes.map(\.targetID) == [poll.messageID, place.messageID])
        #expect(world.messages.changes.allSatisfy { $0.chatID == group.id && $0.senderID == "\(Self.bob)@c.us" })
        let received = world.messages.messages.filter { !$0.fromMe }
        #expect(received.map(\.type) == ["location", "text"])
        #expect(received.allSatisfy { $0.chatID == group.id && $0.author == "\(Self.bob)@c.us" })
        await world.shutdown(engine)
    }

    @Test func editsRevokesVotesAndForwardsInAGroup() async throws {
        let (world, engine, _) = try await linkedWorld()
        let group = try await engine.createGroup(name: "Actions", participants: ["\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let typo = try await engine.sendText(chatID: group.id, text: "metting at 5")
        let oops = try await engine.sendText(chatID: group.id, text: "wrong group")
        _ = try await engine.editMessage(chatID: group.id, messageID: typo.messageID, body: "meeting at 5", mentions: [])
        try await engine.deleteMessage(chatID: group.id, messageID: oops.messageID, forEveryone: true)
        for phone in [Self.bob, Self.carol] {
            let inbox = try await world.simulator.inbox(of: phone)
            #expect(inbox.first { $0.id == typo.messageID }?.body == "meeting at 5", "phone \(phone)")
            #expect(inbox.first { $0.id == typo.messageID }?.edited == true)
            #expect(inbox.first { $0.id == oops.messageID }?.type == "revoked")
        }
        // Bob's poll in the group: our vote is opened by his phone.
        let poll = try await world.simulator.sendMessage(
            from: Self.bob, json: Array(#"{"to":"\#(group.id)","kind":"poll","name":"When?","options":["5","6"]}"#.utf8))
        try await waitUntil { world.messages.messages.contains { $0.id == poll.id } }
        #expect(try await engine.votePoll(chatID: group.id, pollMessageID: poll.id, options: ["6"]) == .voted)
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.target == poll.id } }
        #expect(try await world.simulator.inbox(of: Self.bob).first { $0.target == poll.id }?.options == ["6"])
        // A group message forwarded to a person.
        let note = try await engine.sendText(chatID: group.id, text: "bring slides")
        let forwarded = try await engine.forward(fromChatID: group.id, toChatID: "\(Self.carol)@c.us", messageID: note.messageID)
        let copy = try #require(try await world.simulator.inbox(of: Self.carol).first { $0.id == forwarded.messageID })
        #expect(copy.body == "bring slides")
        #expect(copy.forwarded == true)
        #expect(copy.chat == "\(Self.carol)@s.whatsapp.net")
        await world.shutdown(engine)
    }

    @Test func anAdminDeletesAMembersMessageForEveryone() async throws {
        let (world, engine, _) = try await linkedWorld()
        let group = try await engine.createGroup(name: "Moderated", participants: ["\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let spam = try await world.simulator.sendMessage(from: Self.bob, to: group.id, text: "buy now")
        try await waitUntil { world.messages.messages.contains { $0.id == spam.id } }
        try await engine.deleteMessage(chatID: group.id, messageID: spam.id, forEveryone: true)
        // Every member's phone gets the admin's revoke naming Bob's message.
        for phone in [Self.bob, Self.carol] {
            try await waitUntil { try await world.simulator.inbox(of: phone).contains { $0.target == spam.id && $0.type == "revoked" } }
        }
        #expect(world.messages.changes.contains { $0.kind == .revoke && $0.targetID == spam.id })

        // In Bob's group Alice is a plain member: his message is not hers to delete for everyone.
        let bobs = try await world.simulator.createGroup(by: Self.bob, subject: "Bob's rules", members: [Self.alice])
        let rule = try await world.simulator.sendMessage(from: Self.bob, to: bobs.id, text: "no spam")
        try await waitUntil { world.messages.messages.contains { $0.id == rule.id } }
        await #expect(throws: EngineError.self) {
            try await engine.deleteMessage(chatID: bobs.id, messageID: rule.id, forEveryone: true)
        }
        await world.shutdown(engine)
    }
}
