import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Text messages both ways between the native engine and simulated phones that are real Signal
/// participants, over the real TLS WebSocket and Noise link.
@Suite(.timeLimit(.minutes(1))) struct NativeMessagingTests {
    static let bob = "15557654321"

    /// A linked engine for Alice's account whose prekeys are on the server, and Bob's phone.
    private func linkedWorld() async throws -> (SimulatorWorld, NativeEngine, EventRecorder) {
        try await SimulatorWorld.linked(contacts: [(Self.bob, "Bob")])
    }

    private func pending(_ world: SimulatorWorld) async throws -> Int {
        try await world.simulator.companions(of: SimulatorWorld.phone).first?.pendingMessages ?? -1
    }

    @Test func aPhoneMessageIsDecryptedStoredAndConfirmed() async throws {
        let (world, engine, _) = try await linkedWorld()
        let sent = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "hello from Bob")
        #expect(sent.devices == 1)
        try await waitUntil { world.messages.messages.count == 1 }
        let message = try #require(world.messages.messages.first)
        #expect(message.id == sent.id)
        #expect(message.body == "hello from Bob")
        #expect(message.type == "text")
        #expect(message.chatID == "\(Self.bob)@c.us")
        #expect(message.from == "\(Self.bob)@c.us")
        #expect(message.to == "\(SimulatorWorld.phone)@c.us")
        #expect(!message.fromMe)
        // The receipt went back only after the message was stored: nothing is queued any more.
        try await waitUntil { try await pending(world) == 0 }
        // A second message rides the same session (a plain `msg`).
        _ = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "second")
        try await waitUntil { world.messages.messages.count == 2 }
        #expect(world.messages.messages.last?.body == "second")
        await world.shutdown(engine)
    }

    @Test func aSentTextReachesThePhoneDecryptedAndItsReceiptAdvancesTheStatus() async throws {
        let (world, engine, _) = try await linkedWorld()
        let sent = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "hi Bob")
        #expect(sent.messageID.hasPrefix("3EB0"))
        #expect(sent.messageID.count == 22)
        let inbox = try await world.simulator.inbox(of: Self.bob)
        let received = try #require(inbox.first)
        #expect(received.id == sent.messageID)
        #expect(received.body == "hi Bob")
        #expect(received.encType == "pkmsg")
        #expect(received.chat == "\(Self.bob)@s.whatsapp.net")
        // Alice's own phone got the device-sent copy, filed under Bob's chat.
        let own = try await world.simulator.inbox(of: SimulatorWorld.phone)
        #expect(own.first?.body == "hi Bob")
        #expect(own.first?.chat == "\(Self.bob)@s.whatsapp.net")
        #expect(world.messages.messages.first { $0.id == sent.messageID }?.fromMe == true)
        try await waitUntil { world.messages.acks.contains { $0.ids == [sent.messageID] && $0.ack == 2 } }
        // The second send reuses the sessions: a `msg` now that... still `pkmsg` until Bob answers.
        let again = try await engine.sendText(chatID: Self.bob + "@c.us", text: "again")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == again.messageID } }
        await world.shutdown(engine)
    }

    @Test func aMessageTypedOnTheOwnPhoneArrivesAsFromMe() async throws {
        let (world, engine, _) = try await linkedWorld()
        let sent = try await world.simulator.sendMessage(from: SimulatorWorld.phone, to: Self.bob, text: "typed on the phone")
        #expect(sent.devices == 1)
        try await waitUntil { world.messages.messages.count == 1 }
        let message = try #require(world.messages.messages.first)
        #expect(message.fromMe)
        #expect(message.chatID == "\(Self.bob)@c.us")
        #expect(message.to == "\(Self.bob)@c.us")
        #expect(message.body == "typed on the phone")
        await world.shutdown(engine)
    }

    @Test func messagesSentWhileOfflineArriveInOrderAfterTheNextLogin() async throws {
        let (world, engine, _) = try await linkedWorld()
        await engine.stop()
        var ids: [String] = []
        for index in 1...5 {
            ids.append(try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "offline \(index)").id)
        }
        #expect(try await pending(world) == 5)
        try await engine.start()
        try await waitUntil { world.messages.messages.count == 5 }
        #expect(world.messages.messages.map(\.id) == ids)
        try await waitUntil { try await pending(world) == 0 }
        await world.shutdown(engine)
    }

    @Test func aLostSessionIsRepairedThroughARetryReceipt() async throws {
        let (world, engine, _) = try await linkedWorld()
        _ = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "first")
        try await waitUntil { world.messages.messages.count == 1 }
        // The session with Bob's phone is lost (state restored from an older copy, say): the
        // next `msg` cannot be decrypted by a fresh engine on that store.
        await engine.stop()
        let keys = try await world.store.load(sessionID: "s1").keys.filter { $0.hasPrefix("signal.session.") }
        // Bob's, and our primary's (its app-state key share came first).
        #expect(Set(keys) == ["signal.session.\(Self.bob).0", "signal.session.\(SimulatorWorld.phone).0"])
        try await world.store.apply(sessionID: "s1", changes: Dictionary(uniqueKeysWithValues: keys.map { ($0, nil) }))
        let recorder = EventRecorder()
        let fresh = try world.engine(recorder: recorder)
        try await fresh.start()
        _ = try await recorder.readyIndex()
        let second = try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "after the loss")
        // Retry receipt -> the phone starts a new session from a fresh bundle -> decrypted.
        try await waitUntil { world.messages.messages.count == 2 }
        #expect(world.messages.messages.last?.id == second.id)
        #expect(world.messages.messages.last?.body == "after the loss")
        try await waitUntil { try await pending(world) == 0 }
        await world.shutdown(fresh)
    }

    @Test func burstsBothWaysAreBatchedWithoutLosingOrder() async throws {
        let (world, engine, _) = try await linkedWorld()
        // 40 concurrent sends share encryption batches; every copy decrypts at the phone.
        let sent = try await withThrowingTaskGroup(of: String.self) { group in
            for index in 0..<40 {
                group.addTask { try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "burst \(index)").messageID }
            }
            return try await group.reduce(into: Set<String>()) { $0.insert($1) }
        }
        #expect(sent.count == 40)
        let inbox = try await world.simulator.inbox(of: Self.bob)
        #expect(Set(inbox.map(\.id)) == sent)
        // 60 messages from the phone at once arrive in batches, in the order sent.
        var ids: [String] = []
        for index in 0..<60 {
            ids.append(try await world.simulator.sendMessage(from: Self.bob, to: SimulatorWorld.phone, text: "in \(index)").id)
        }
        try await waitUntil { world.messages.messages.filter { !$0.fromMe }.count == 60 }
        #expect(world.messages.messages.filter { !$0.fromMe }.map(\.id) == ids)
        try await waitUntil { try await pending(world) == 0 }
        await world.shutdown(engine)
    }

    @Test func aLowPrekeyCountFromTheServerTriggersARefill() async throws {
        let (world, engine, _) = try await linkedWorld()
        let device = try await world.device()
        #expect(try await world.simulator.takePreKeys(phone: SimulatorWorld.phone, device: device, leave: 3) == 3)
        // The notification makes the engine generate, store and upload 50 more.
        try await waitUntil { (try await world.simulator.companions(of: SimulatorWorld.phone).first?.preKeyCount ?? 0) == 53 }
        let stored = try await world.store.load(sessionID: "s1").keys.filter { $0.hasPrefix("prekey.") && $0.dropFirst(7).allSatisfy(\.isNumber) }
        // 812 from the first login, one used by the primary's key share, 50 new.
        #expect(stored.count == 811 + 50)
        // Four new contacts: three take the old keys that were left, the fourth one of the new ones.
        for index in 0..<4 {
            let phone = "1555765433\(index)"
            _ = try await world.simulator.createPhone(phone, pushName: "Contact \(index)")
            _ = try await world.simulator.sendMessage(from: phone, to: SimulatorWorld.phone, text: "hello from \(index)")
        }
        try await waitUntil { world.messages.messages.filter { $0.body.hasPrefix("hello from") }.count == 4 }
        #expect(try await world.simulator.companions(of: SimulatorWorld.phone).first?.preKeyCount == 49)
        await world.shutdown(engine)
    }

    @Test func sendingToAnUnknownNumberFailsClearly() async throws {
        let (world, engine, _) = try await linkedWorld()
        await #expect(throws: EngineError.self) { try await engine.sendText(chatID: "19990000000@c.us", text: "anyone?") }
        await #expect(throws: EngineError.self) { try await engine.sendText(chatID: "not-a-number@c.us", text: "x") }
        await #expect(throws: EngineError.self) { try await engine.sendText(chatID: "123-456@g.us", text: "x") }
        // The link is still fine.
        let sent = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "still here")
        #expect(!sent.messageID.isEmpty)
        await world.shutdown(engine)
    }
}
