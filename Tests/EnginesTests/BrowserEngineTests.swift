import Engines
import Foundation
import Reactor
import Testing
import TestSupport

/// The browser engine against real Chromium, with the fixture page standing in for WhatsApp Web.
///
/// Serialized: each test runs its own Chromium (~300 MB, several processes), and on a 2-core CI
/// machine parallel launches only slow each other down.
@Suite(.serialized, .timeLimit(.minutes(1)), .enabled(if: BrowserTestEnvironment.enabled))
struct BrowserEngineTests {
    @Test func qrThenLinkThenReadyThenSendAndReceive() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        let (qr, _) = try await recorder.qr()
        #expect(qr.split(separator: ",").count == 5, "ref,noiseKey,identityKey,advSecret,platform")
        #expect(qr.hasPrefix("2@"))

        #expect(try await engine.evaluate("__fake.pair()") == .bool(true))
        try await recorder.wait { $0 == .authenticating }
        let (ready, _) = try await recorder.wait { if case .ready = $0 { true } else { false } }
        #expect(ready == .ready(phone: "15551234567", pushName: "Fixture User"))

        let sent = try await engine.sendText(chatID: "15550001111@c.us", text: "hello from openwa")
        #expect(sent.messageID.hasPrefix("true_15550001111@c.us_3EB0"))
        #expect(sent.timestamp > 0)
        try await recorder.wait { if case .message(let m) = $0 { m.fromMe && m.body == "hello from openwa" } else { false } }
        try await recorder.wait { $0 == .messageAck(messageID: sent.messageID, chatID: "15550001111@c.us", ack: 1) }
        #expect(try await engine.evaluate("__fake.sent.map(m => m.to + ':' + m.body)") == ["15550001111@c.us:hello from openwa"])

        _ = try await engine.evaluate("__fake.incoming('hi there', '15550002222@c.us')")
        let (event, _) = try await recorder.wait { if case .message(let m) = $0 { !m.fromMe } else { false } }
        guard case .message(let received) = event else { return }
        #expect(received.body == "hi there")
        #expect(received.chatID == "15550002222@c.us")
        #expect(received.from == "15550002222@c.us")
        #expect(received.to == "15551234567@c.us")
        await world.shutdown(engine)
    }

    @Test func fixtureSatisfiesTheBridgeContract() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        _ = try await recorder.qr()
        #expect(try await engine.evaluate(BrowserBridgeContract.checkExpression) == [])
        // The page has WhatsApp Web's real origin: the document was served through Fetch.
        #expect(try await engine.evaluate("location.href + ' ' + isSecureContext") == "https://web.whatsapp.com/ true")
        #expect(try await engine.evaluate("navigator.userAgent.includes('Headless')") == false)
        await world.shutdown(engine)
    }

    @Test func pinnedHTMLIsServedWhileOtherRequestsGoOn() async throws {
        // The production set-up: only WA Web's documents are intercepted, the rest is not paused.
        var world = try BrowserWorld.start()
        world.configuration.blockOtherRequests = false
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        _ = try await recorder.qr()
        #expect(try await engine.evaluate("document.title") == "fake WA Web (test fixture)")
        await world.shutdown(engine)
    }

    @Test func rendererCrashFailsPendingCallsAtOnceAndTheSessionRecovers() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.link(engine, recorder)
        let mark = recorder.all.count

        // A call the page never answers, with a deadline far beyond the test's patience.
        let pending = Task { try await engine.evaluate("new Promise(() => {})", timeoutMilliseconds: 60_000) }
        try await Task.sleep(for: .milliseconds(200))
        let crashedAt = ContinuousClock.now
        let crash = Task { try? await engine.pageCommand("Page.crash") }
        await #expect(throws: EngineError.self) { try await pending.value }
        // Far below the call's 60 s deadline even on a loaded machine: it failed because of the crash.
        #expect(ContinuousClock.now - crashedAt < .seconds(30), "pending calls fail when the renderer crashes, not at their deadline")
        _ = await crash.value

        try await recorder.wait(from: mark) { if case .disconnected(_, true) = $0 { true } else { false } }
        // The profile remembers the link, so the reloaded page logs straight in.
        _ = try await recorder.readyIndex(from: mark)
        _ = try await engine.sendText(chatID: "15550001111@c.us", text: "after the crash")
        await world.shutdown(engine)
    }

    @Test func killedBrowserIsRestarted() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await world.link(engine, recorder)
        let first = try #require(await engine.processGroup())
        let mark = recorder.all.count

        kill(first, SIGKILL)
        try await recorder.wait(from: mark) { if case .disconnected(_, true) = $0 { true } else { false } }
        await expectGone(first)
        // The new browser loads WhatsApp Web again: ready when the profile kept the link, a QR
        // when the killed browser had not flushed it to disk yet.
        try await recorder.wait(from: mark) {
            switch $0 {
            case .ready, .qr: true
            default: false
            }
        }
        let second = try #require(await engine.processGroup())
        #expect(second != first)
        await world.shutdown(engine)
    }

    @Test func secondStartOnOneProfileIsRefusedCleanly() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let first = world.engine("shared", recorder: recorder)
        let second = world.engine("shared", recorder: EventRecorder())
        try await first.start()
        _ = try await recorder.qr()
        await #expect {
            try await second.start()
        } throws: { error in
            (error as? EngineError)?.kind == .conflict
        }
        #expect(await second.processGroup() == nil)
        await first.stop()
        // Once the first is stopped the profile is free again.
        try await second.start()
        #expect(await second.processGroup() != nil)
        await world.shutdown(first, second)
    }

    @Test func qrCapEndsTheStartAndANewStartShowsQRsAgain() async throws {
        var world = try BrowserWorld.start()
        world.configuration.qrMaxRetries = 2
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        let (_, first) = try await recorder.qr()
        let group = try #require(await engine.processGroup())
        _ = try await engine.evaluate("__fake.rotateQr()")
        _ = try await recorder.qr(from: first + 1)
        // The QR past the cap closes the browser, which may come before this call's reply.
        _ = try? await engine.evaluate("__fake.rotateQr()")
        let (_, end) = try await recorder.wait { $0 == .disconnected(reason: "Max qrcode retries reached", willReconnect: false) }
        #expect(recorder.all[..<end].filter { if case .qr = $0 { true } else { false } }.count == 2, "the third QR is never shown")
        #expect(await engine.processGroup() == nil)
        await expectGone(group)

        try await engine.start()
        _ = try await recorder.qr(from: end)
        await world.shutdown(engine)
    }

    @Test func reactorShutdownTakesTheBrowserDown() async throws {
        let world = try BrowserWorld.start()
        let recorder = EventRecorder()
        let engine = world.engine(recorder: recorder)
        try await engine.start()
        _ = try await recorder.qr()
        let group = try #require(await engine.processGroup())
        // The gateway's loop ends without stopping the session first.
        world.reactor.stop()
        await world.reactor.waitUntilStopped()
        await expectGone(group)
        try? FileManager.default.removeItem(atPath: world.directory)
    }
}
