import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Retry receipts for what the engine sent (reference part 2, 2.6): a phone that cannot decrypt
/// asks again, and the engine sends the message again to that device, under the same id.
@Suite(.timeLimit(.minutes(1))) struct NativeRetryTests {
    static let bob = "15557654321"

    @Test func aPhoneThatLostItsSessionGetsTheMessageAgain() async throws {
        let world = try await SimulatorWorld.start()
        _ = try await world.simulator.createPhone(Self.bob, pushName: "Bob")
        let recorder = EventRecorder()
        let engine = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let first = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "first")
        #expect(try await world.simulator.inbox(of: Self.bob).map(\.id) == [first.messageID])
        // Bob's phone is restored from an old backup: our next `msg` cannot be read there. It asks
        // again; the engine first tries the same session (count 1), then a fresh one from a new
        // bundle (count 2), which the phone reads.
        try await world.simulator.dropSessions(of: Self.bob)
        try await world.simulator.dropSessions(of: SimulatorWorld.phone)
        let second = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "after the restore")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == second.messageID } }
        let inbox = try await world.simulator.inbox(of: Self.bob)
        let again = try #require(inbox.first { $0.id == second.messageID })
        #expect(again.body == "after the restore")
        #expect(again.encType == "pkmsg")
        #expect(inbox.filter { $0.id == second.messageID }.count == 1)
        // Our own phone lost its session too: it gets its device-sent copy again.
        try await waitUntil { try await world.simulator.inbox(of: SimulatorWorld.phone).contains { $0.id == second.messageID } }
        #expect(try await world.simulator.inbox(of: SimulatorWorld.phone).first { $0.id == second.messageID }?.chat == "\(Self.bob)@s.whatsapp.net")
        // A retry for an id the engine never sent is ignored; the link keeps serving.
        let device = try await world.device()
        #expect(
            try await world.simulator.askAgain(
                phone: Self.bob, sender: SimulatorWorld.phone, device: device, id: "3EB0NEVERSENT", group: nil, count: 1))
        let third = try await engine.sendText(chatID: "\(Self.bob)@c.us", text: "still fine")
        try await waitUntil { try await world.simulator.inbox(of: Self.bob).contains { $0.id == third.messageID } }
        #expect(!(try await world.simulator.inbox(of: Self.bob)).contains { $0.id == "3EB0NEVERSENT" })
        await world.shutdown(engine)
    }
}
