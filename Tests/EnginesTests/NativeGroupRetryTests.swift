import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Retry receipts for our group messages (reference part 2, 2.6): a member's phone that cannot
/// read our `skmsg` asks again, and the engine sends the message to that device alone, pairwise,
/// with our sender key.
@Suite(.timeLimit(.minutes(1))) struct NativeGroupRetryTests {
    static let alice = SimulatorWorld.phone
    static let bob = "15557654321"
    static let carol = "15550001111"

    /// A linked engine in a group it created with Bob and Carol, and one message all of them read.
    private func groupWorld() async throws -> (SimulatorWorld, NativeEngine, group: String, first: String) {
        let (world, engine, _) = try await SimulatorWorld.linked(contacts: [(Self.bob, "Bob"), (Self.carol, "Carol")])
        let group = try await engine.createGroup(name: "Retries", participants: ["\(Self.bob)@c.us", "\(Self.carol)@c.us"])
        let first = try await engine.sendText(chatID: group.id, text: "first")
        for phone in [Self.bob, Self.carol] {
            try await waitUntil { try await world.simulator.inbox(of: phone).contains { $0.id == first.messageID } }
        }
        return (world, engine, group.id, first.messageID)
    }

    /// The devices our chain for `group` was handed to, as the store keeps them.
    private func senderKeyMemory(_ world: SimulatorWorld, group: String) async throws -> Set<String> {
        let stored = try await world.store.value(sessionID: "s1", key: "signal.skmemory.\(group)") ?? []
        return Set(String(decoding: stored, as: UTF8.self).split(separator: "\n").map(String.init))
    }

    @Test func aPhoneThatLostOurSenderKeyGetsTheGroupMessageAgain() async throws {
        let (world, engine, group, _) = try await groupWorld()
        #expect(try await senderKeyMemory(world, group: group).contains("\(Self.bob).0"))
        // Bob's phone is restored from an old backup: no chain of ours, no session with us. Our
        // next `skmsg` fails there; it asks again, the engine answers pairwise on the old session
        // (count 1, which fails too), then on a fresh one with our chain (count 2), which reads.
        try await world.simulator.dropSenderKeys(of: Self.bob)
        try await world.simulator.dropSessions(of: Self.bob)
        let second = try await engine.sendText(chatID: group, text: "after the restore")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == second.messageID } }
        let inbox = try await world.simulator.inbox(of: Self.bob)
        let again = try #require(inbox.first { $0.id == second.messageID })
        #expect(again.body == "after the restore")
        #expect(again.chat == group)
        #expect(again.from == "\(Self.alice):\(try await world.device())@s.whatsapp.net")
        #expect(again.encType == "pkmsg")
        #expect(inbox.filter { $0.id == second.messageID }.count == 1)
        // Carol was not asked about: hers came as the shared `skmsg`, once.
        let carols = try await world.simulator.inbox(of: Self.carol).filter { $0.id == second.messageID }
        #expect(carols.map(\.encType) == ["skmsg"])
        // The retry took Bob out of the chain's memory; the next send hands it to him again and
        // he reads the `skmsg` with it.
        #expect(!(try await senderKeyMemory(world, group: group)).contains("\(Self.bob).0"))
        let third = try await engine.sendText(chatID: group, text: "back to normal")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == third.messageID } }
        #expect(try await world.simulator.inbox(of: Self.bob).first { $0.id == third.messageID }?.encType == "skmsg")
        #expect(try await senderKeyMemory(world, group: group).contains("\(Self.bob).0"))
        await world.shutdown(engine)
    }

    @Test func aFifthRetryAndUnknownMessagesGetNothing() async throws {
        let (world, engine, group, first) = try await groupWorld()
        let device = try await world.device()
        // The fifth retry is past the cap; the fourth, asked right after it, is served (fresh
        // session, our chain along) and is the only extra copy Bob's phone files.
        #expect(try await world.simulator.askAgain(phone: Self.bob, sender: Self.alice, device: device, id: first, group: group, count: 5))
        #expect(try await world.simulator.askAgain(phone: Self.bob, sender: Self.alice, device: device, id: first, group: group, count: 4))
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).filter { $0.id == first }.count == 2 }
        #expect(try await world.simulator.inbox(of: Self.bob).filter { $0.id == first }.last?.encType == "pkmsg")
        // An id the engine never sent, and one of ours asked about from the wrong chat, are ignored.
        #expect(
            try await world.simulator.askAgain(
                phone: Self.bob, sender: Self.alice, device: device, id: "3EB0NEVERSENT", group: group, count: 1))
        #expect(try await world.simulator.askAgain(phone: Self.bob, sender: Self.alice, device: device, id: first, group: nil, count: 1))
        // The link keeps serving; by the time this arrives, anything the ignored retries caused
        // would have arrived before it.
        let later = try await engine.sendText(chatID: group, text: "still here")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == later.messageID } }
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(inbox.filter { $0.id == first }.count == 2)
        #expect(!inbox.contains { $0.id == "3EB0NEVERSENT" })
        await world.shutdown(engine)
    }

    @Test func aMemberCompanionThatLostOurSenderKeyGetsTheGroupMessageAgain() async throws {
        let (world, engine, group, _) = try await groupWorld()
        // Bob has a linked companion of his own, with its own store of messages.
        let bobsMessages = RecordingMessageSink()
        let start = { () async throws -> NativeEngine in
            let recorder = EventRecorder()
            let companion = try world.engine("s2", recorder: recorder, messages: bobsMessages)
            let paired = !(try await world.store.load(sessionID: "s2")).isEmpty
            try await companion.start()
            if !paired {
                let (qr, _) = try await recorder.qr()
                _ = try await world.simulator.scan(qr: qr, by: Self.bob)
            }
            _ = try await recorder.readyIndex()
            return companion
        }
        var bobs = try await start()
        try await waitUntil { (try await world.simulator.companions(of: Self.bob).first?.preKeyCount ?? 0) > 0 }
        let second = try await engine.sendText(chatID: group, text: "Bob's companion is here")
        try await waitUntil { bobsMessages.messages.contains { $0.id == second.messageID } }
        // The companion loses our sender key: our next `skmsg` cannot be read there. Its retry
        // receipt reaches our device through the server; the answer (our key and the content,
        // pairwise, naming it as participant) reaches it alone.
        await bobs.stop()
        let ownKey = "signal.senderkey.\(group)::\(Self.alice).\(try await world.device())"
        #expect(try await world.store.value(sessionID: "s2", key: ownKey) != nil)
        try await world.store.apply(sessionID: "s2", changes: [ownKey: nil])
        bobs = try await start()
        let third = try await engine.sendText(chatID: group, text: "after the loss")
        try await waitUntil { bobsMessages.messages.contains { $0.id == third.messageID } }
        let got = try #require(bobsMessages.messages.first { $0.id == third.messageID })
        #expect(got.body == "after the loss")
        #expect(got.chatID == group)
        #expect(got.author == "\(Self.alice)@c.us")
        #expect(try await world.store.value(sessionID: "s2", key: ownKey) != nil, "the companion keeps our key again")
        // Bob's phone read the shared `skmsg` and was never asked about.
        #expect(try await world.simulator.inbox(of: Self.bob).filter { $0.id == third.messageID }.map(\.encType) == ["skmsg"])
        await bobs.stop()
        await world.shutdown(engine)
    }
}
