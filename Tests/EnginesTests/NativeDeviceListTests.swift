import Engines
import Foundation
import Persistence
import Reactor
import Simulator
import Testing
import TestSupport
import WAProtocol

/// Device-list changes reach the engine as `devices` notifications and take effect at once,
/// instead of after the device cache's minute.
@Suite(.timeLimit(.minutes(1))) struct NativeDeviceListTests {
    static let bob = "15557654321"

    @Test func aContactsNewDeviceGetsTheVeryNextMessage() async throws {
        let world = try await SimulatorWorld.start()
        _ = try await world.simulator.createPhone(Self.bob, pushName: "Bob")
        let recorder = EventRecorder()
        let alice = try world.engine(recorder: recorder)
        try await world.pairAndLogIn(alice, recorder)
        // Alice writes to Bob while Bob has only his phone: his device list (just the phone) is cached.
        _ = try await alice.sendText(chatID: "\(Self.bob)@c.us", text: "before")
        // Bob links a companion (another engine); Alice's engine hears of it.
        let bobMessages = RecordingMessageSink()
        let bobRecorder = EventRecorder()
        let configuration = NativeEngineConfiguration(
            serverURL: world.simulator.webSocketURL, tls: try TLSContext(clientTrusting: world.simulator.caFile),
            rootPublicKey: world.simulator.rootPublicKey, connectTimeoutMilliseconds: 5_000, handshakeTimeoutMilliseconds: 5_000)
        let bob = NativeEngineFactory(
            configuration: configuration, reactor: world.reactor, authState: InMemoryAuthStateStore(), messages: bobMessages,
            logger: quietLogger
        ).makeEngine(sessionID: "bob", config: SessionEngineConfig(), events: bobRecorder.sink) as! NativeEngine
        try await bob.start()
        let (qr, _) = try await bobRecorder.qr()
        _ = try await world.simulator.scan(qr: qr, by: Self.bob)
        _ = try await bobRecorder.readyIndex()
        try await waitUntil { (try await world.simulator.companions(of: Self.bob).first?.preKeyCount ?? 0) > 0 }
        // Well within the cache's minute, the next message reaches the new device too.
        let after = try await alice.sendText(chatID: "\(Self.bob)@c.us", text: "after")
        try await waitUntil { bobMessages.messages.contains { $0.id == after.messageID } }
        #expect(bobMessages.messages.first { $0.id == after.messageID }?.body == "after")
        #expect(bobMessages.messages.first { $0.id == after.messageID }?.from == "\(SimulatorWorld.phone)@c.us")
        // Bob unlinks it: the session with that device is deleted from Alice's state.
        let device = try #require(try await world.simulator.companions(of: Self.bob).first).device
        let sessionKey = "signal.session.\(Self.bob).\(device)"
        #expect(try await world.store.value(sessionID: "s1", key: sessionKey) != nil)
        try await world.simulator.unlink(phone: Self.bob, device: device)
        try await waitUntil { (try await world.store.value(sessionID: "s1", key: sessionKey)) == nil }
        let last = try await alice.sendText(chatID: "\(Self.bob)@c.us", text: "phone only again")
        #expect(try await world.simulator.inbox(of: Self.bob).contains { $0.id == last.messageID })
        await world.shutdown(alice, bob)
    }
}
