import Engines
import Foundation
import Persistence
import Reactor
import Testing
import WAProtocol

/// The native engine end to end against a WhatsApp server through real sockets and the real
/// protocol: Noise, ClientPayload, pairing, 515, login, prekeys, disconnects.
@Suite(.timeLimit(.minutes(1))) struct NativeEngineTests {
    @Test func qrScanPairsRestartsAndLogsIn() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        guard case .ready(let phone, _) = recorder.all.last(where: { if case .ready = $0 { true } else { false } }) else {
            Issue.record("no ready")
            return
        }
        #expect(phone == "15551234567")
        #expect(recorder.all.first.map { if case .qr(let text) = $0 { text.hasPrefix(PairingQR.urlPrefix) } else { false } } == true)
        let stored = try await world.store.load(sessionID: "s1")
        #expect(stored["me.jid"].map { String(decoding: $0, as: UTF8.self) } == "15551234567:1@s.whatsapp.net")
        #expect(stored["noise.private"]?.count == 32)
        #expect(stored["account.signed-identity"] != nil)
        #expect(try await world.server.deviceCount == 1)
        #expect(try await world.server.loginCount == 1)
        // First login: the full prekey batch, stored locally too.
        try await waitUntil { try await world.server.uploadedPreKeys == 812 }
        #expect(try await world.store.load(sessionID: "s1").keys.filter { $0.hasPrefix("prekey.") && $0.dropFirst(7).allSatisfy(\.isNumber) }.count == 812)
        await world.shutdown(engine)
    }

    @Test func aSecondEngineWithTheSameStoreLogsInWithoutQR() async throws {
        let world = try NativeHarness.start()
        let first = EventRecorder()
        let engine = world.engine(recorder: first)
        try await world.pairAndLogIn(engine, first)
        await engine.stop()
        let second = EventRecorder()
        let restarted = world.engine(recorder: second)
        try await restarted.start()
        _ = try await second.readyIndex()
        #expect(!second.all.contains { if case .qr = $0 { true } else { false } })
        #expect(try await world.server.loginCount == 2)
        await world.shutdown(restarted)
    }

    @Test func pairingCodeLinksByPhoneNumber() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        _ = try await recorder.qr()
        let code = try await engine.requestPairingCode(phoneNumber: "+15557654321")
        #expect(code.count == 8)
        #expect(code.allSatisfy { PairingCode.alphabet.contains($0.asciiValue ?? 0) })
        try await world.server.enterPairingCode(code)
        try await recorder.wait { $0 == .authenticating }
        let ready = try await recorder.wait { if case .ready = $0 { true } else { false } }
        #expect(ready.event == .ready(phone: "15557654321", pushName: nil))
        await #expect(throws: EngineError.self) { try await engine.requestPairingCode(phoneNumber: "15557654321") }
        await world.shutdown(engine)
    }

    @Test func aDroppedLinkReconnectsAfterTheBackoff() async throws {
        let world = try NativeHarness.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let before = recorder.all.count
        try await world.server.dropAll()
        let dropped = try await recorder.wait(from: before) { if case .disconnected = $0 { true } else { false } }
        guard case .disconnected(_, let willReconnect) = dropped.event else { return }
        #expect(willReconnect)
        try await Task.sleep(for: .milliseconds(200))
        #expect(try await world.server.loginCount == 2 - 1, "no reconnect before the backoff elapsed")
        try await world.advance(milliseconds: 1_000)
        _ = try await recorder.readyIndex(from: dropped.index)
        #expect(try await world.server.loginCount == 2)
        await world.shutdown(engine)
    }

    @Test func reconnectLoopEveryFifthAttemptAndFailedAtTheCap() async throws {
        let world = try NativeHarness.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder, config: SessionEngineConfig(maxReconnectAttempts: 5, reconnectBaseDelayMilliseconds: 100))
        try await world.pairAndLogIn(engine, recorder)
        await world.server.stop()  // every attempt now fails to connect
        var delay = 100
        for attempt in 1...5 {
            try await recorder.wait { _ in
                recorder.all.filter { if case .disconnected(_, true) = $0 { true } else { false } }.count >= attempt
            }
            try await world.advance(milliseconds: delay)
            delay *= 2
        }
        try await recorder.wait { if case .failed = $0 { true } else { false } }
        #expect(recorder.all.contains(.reconnectLoop(attempts: 5, nextDelayMilliseconds: 1_600)))
        #expect(recorder.all.contains { if case .disconnected(_, false) = $0 { true } else { false } })
        await engine.stop()
        world.reactor.stop()
        await world.reactor.waitUntilStopped()
    }

    @Test func aReplacedLinkDoesNotReconnect() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await world.server.replace()
        let event = try await recorder.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, let willReconnect) = event else { return }
        #expect(!willReconnect)
        #expect(reason.contains("replaced"))
        try await Task.sleep(for: .milliseconds(300))
        #expect(try await world.server.loginCount == 1)
        await world.shutdown(engine)
    }

    @Test func anUnlinkByThePhoneWipesCredentialsAndShowsANewQR() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        let oldNoise = try await world.store.value(sessionID: "s1", key: "noise.private")
        let before = recorder.all.count
        try await world.server.unlinkAll()
        let loggedOut = try await recorder.wait(from: before) { if case .loggedOut = $0 { true } else { false } }
        let (qr, _) = try await recorder.qr(from: loggedOut.index)
        #expect(qr.hasPrefix(PairingQR.urlPrefix))
        let stored = try await world.store.load(sessionID: "s1")
        #expect(stored["me.jid"] == nil)
        #expect(stored["noise.private"] != oldNoise, "a new device identity after the removal")
        await world.shutdown(engine)
    }

    @Test func logoutRemovesTheDeviceAndWipesCredentials() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await engine.logout()
        #expect(recorder.all.last == .loggedOut(reason: "logged out"))
        #expect(try await world.store.load(sessionID: "s1").isEmpty)
        #expect(try await world.server.removedByLogout == 1)
        #expect(try await world.server.deviceCount == 0)
        await world.shutdown(engine)
    }

    @Test func aWrongRootKeyFailsTheHandshakeClearly() async throws {
        let world = try NativeHarness.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder, root: NoiseCertificateChain.whatsAppRootPublicKey)
        try await engine.start()
        let event = try await recorder.wait { if case .failed = $0 { true } else { false } }.event
        guard case .failed(let reason) = event else { return }
        #expect(reason.contains("handshake"))
        #expect(!recorder.all.contains { if case .qr = $0 { true } else { false } })
        await world.shutdown(engine)
    }

    @Test func aMalformedFrameEndsOnlyThatLink() async throws {
        let world = try NativeHarness.start()
        let one = EventRecorder()
        let engine = world.engine("a", recorder: one)
        try await world.pairAndLogIn(engine, one)
        try await world.server.sendGarbage()
        let event = try await one.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, let willReconnect) = event else { return }
        #expect(reason.contains("protocol violation"))
        #expect(willReconnect)
        await world.shutdown(engine)
    }

    @Test func anUnansweredKeepaliveMeansADeadLink() async throws {
        let world = try NativeHarness.start(manualClock: true)
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.pairAndLogIn(engine, recorder)
        try await world.server.setAnswerPings(false)
        try await world.advance(milliseconds: 25_000)
        try await Task.sleep(for: .milliseconds(100))
        try await world.advance(milliseconds: 20_000)
        let event = try await recorder.wait { if case .disconnected = $0 { true } else { false } }.event
        guard case .disconnected(let reason, true) = event else {
            Issue.record("\(event)")
            return
        }
        #expect(reason.contains("keepalive"))
        await world.shutdown(engine)
    }
}

func waitUntil(timeout: Duration = .seconds(20), _ condition: () async throws -> Bool) async throws {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(20))
    }
    Issue.record("condition never held")
}
